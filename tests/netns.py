"""Network namespaces as separate hosts: each gets a veth pair to the root namespace and its own address.

    with Hosts(["a", "b"]) as hosts:      # namespaces tt<pid>a, tt<pid>b; host side 10.<x>.<i>.1, inside .2
        hosts.server_ip                   # what a server in the root namespace listens on (all of them)
        hosts.cmd("a", [python, ...])     # argv that runs inside host a
        hosts.cut("a"); hosts.heal("a")   # ip link set down / up on the root side of a's veth

Needs root and iproute2; `unavailable()` says why not (the tests skip with that reason).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time


def unavailable() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    name = f"ttprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return f"ip netns add failed: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Hosts:
    def __init__(self, names: list[str]):
        self.names = names
        self.tag = f"tt{os.getpid() % 100000}{random.randrange(100)}"
        self.net = random.randrange(100, 250)
        self.made: list[str] = []
        self.links: list[str] = []

    def ns(self, name: str) -> str:
        return f"{self.tag}{name}"

    def veth(self, name: str) -> str:
        return f"v{self.tag}{name}"[:15]

    def host_ip(self, name: str) -> str:
        return f"10.{self.net}.{self.names.index(name) + 1}.1"

    def inner_ip(self, name: str) -> str:
        return f"10.{self.net}.{self.names.index(name) + 1}.2"

    @property
    def server_ips(self) -> list[str]:
        return [self.host_ip(n) for n in self.names]

    def __enter__(self) -> Hosts:
        try:
            for name in self.names:
                ns, veth, peer = self.ns(name), self.veth(name), self.veth(name)[:13] + "p"
                _ip("netns", "add", ns)
                self.made.append(ns)
                _ip("link", "add", veth, "type", "veth", "peer", "name", peer)
                self.links.append(veth)
                _ip("link", "set", peer, "netns", ns)
                _ip("addr", "add", f"{self.host_ip(name)}/24", "dev", veth)
                _ip("link", "set", veth, "up")
                _ip("netns", "exec", ns, "ip", "addr", "add", f"{self.inner_ip(name)}/24", "dev", peer)
                _ip("netns", "exec", ns, "ip", "link", "set", peer, "up")
                _ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for veth in self.links:
            subprocess.run(["ip", "link", "del", veth], capture_output=True)
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def cmd(self, name: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns(name), *argv]

    def cut(self, name: str) -> None:
        _ip("link", "set", self.veth(name), "down")

    def heal(self, name: str) -> None:
        _ip("link", "set", self.veth(name), "up")

    def wait_reachable(self, name: str, ip: str, port: int, timeout: float = 30.0) -> None:
        """Wait until host `name` can open a TCP connection to ip:port (a link set up again carries traffic
        only once the kernel has brought it back, which takes a moment on a loaded machine)."""
        probe = f"import socket; socket.create_connection(({ip!r}, {port}), timeout=1).close()"
        deadline = time.monotonic() + timeout
        while subprocess.run(self.cmd(name, [sys.executable, "-c", probe]), capture_output=True).returncode:
            if time.monotonic() > deadline:
                raise AssertionError(f"host {name} cannot reach {ip}:{port} {timeout:.0f} s after its link came back")
            time.sleep(0.2)
