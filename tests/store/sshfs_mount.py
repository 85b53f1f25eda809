"""A real network filesystem for tests and benchmarks: an sshfs mount through an sshd on the loopback.

    with SshfsMount(tmp_path) as m:     # starts sshd (throwaway host and user keys), mounts m.remote at m.mnt
        ...                             # m.drop() unmounts lazily (fusermount -uz), m.mount() brings it back

Needs sshd, sshfs, fusermount and /dev/fuse (`.ci/run` installs openssh-server and sshfs); `missing()` says
what is not there, for a skip reason. Teardown always unmounts and stops sshd.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")


def _sshd() -> str | None:
    found = shutil.which("sshd")
    if found:
        return found
    return next((p for p in SSHD_CANDIDATES if os.access(p, os.X_OK)), None)


def _fusermount() -> str | None:
    return shutil.which("fusermount3") or shutil.which("fusermount")


def missing() -> str | None:
    """Why an sshfs mount cannot be made here (None: it can be tried)."""
    if _sshd() is None:
        return "sshd is not installed (apt-get install openssh-server)"
    if shutil.which("sshfs") is None:
        return "sshfs is not installed (apt-get install sshfs)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed"
    if _fusermount() is None:
        return "fusermount is not installed (fuse3)"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing (no FUSE in this container)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SshfsMount:
    def __init__(self, base: Path, options: tuple[str, ...] = ()):
        self.base = base
        self.remote = base / "remote"  # what the server exports
        self.mnt = base / "mnt"  # where it is mounted
        self.options = options
        self.sshd: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.mounted = False

    # ------------------------------------------------------------ sshd

    def start(self) -> SshfsMount:
        why = missing()
        if why:
            raise RuntimeError(why)
        self.remote.mkdir(parents=True, exist_ok=True)
        self.mnt.mkdir(parents=True, exist_ok=True)
        keys = self.base / "keys"
        keys.mkdir(mode=0o700, exist_ok=True)
        for name in ("host", "user"):
            if not (keys / name).exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)],
                               check=True, capture_output=True)
        (keys / "authorized_keys").write_bytes((keys / "user.pub").read_bytes())
        os.chmod(keys / "authorized_keys", 0o600)
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        self.port = _free_port()
        cfg = keys / "sshd_config"
        cfg.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host'}\n"
            f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPidFile {keys / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
        )
        self.sshd = subprocess.Popen([_sshd() or "sshd", "-D", "-e", "-f", str(cfg)],
                                     stdout=subprocess.DEVNULL, stderr=open(keys / "sshd.log", "wb"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.sshd.poll() is not None:
                raise RuntimeError(f"sshd exited: {(keys / 'sshd.log').read_text(errors='replace')[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        self.mount()
        return self

    # ------------------------------------------------------------ the mount

    def mount(self) -> None:
        keys = self.base / "keys"
        user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        opts = [f"port={self.port}", f"IdentityFile={keys / 'user'}", "StrictHostKeyChecking=no",
                "UserKnownHostsFile=/dev/null", "LogLevel=ERROR", "BatchMode=yes", *self.options]
        r = subprocess.run(["sshfs", f"{user}@127.0.0.1:{self.remote}", str(self.mnt), "-o", ",".join(opts)],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"sshfs failed ({r.returncode}): {r.stderr.strip()[-500:]}")
        self.mounted = True

    def fstype(self) -> str | None:
        with open("/proc/mounts", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and parts[1] == str(self.mnt):
                    return parts[2]
        return None

    def drop(self) -> None:
        """Unmount lazily, as a network outage or an admin would (fusermount -uz)."""
        subprocess.run([_fusermount() or "fusermount", "-uz", str(self.mnt)], capture_output=True, timeout=30)
        self.mounted = False

    def stop(self) -> None:
        if self.fstype() is not None:
            self.drop()
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.send_signal(signal.SIGTERM)
            try:
                self.sshd.wait(10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait(10)
        self.sshd = None

    def __enter__(self) -> SshfsMount:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
