"""A private PostgreSQL server for the fault tests: its own data directory and port, so restarting it,
killing it with kill -9 or filling its disk never touches the machine's shared server.

Built with the server binaries of the installed PostgreSQL (initdb, postgres); as root it runs them as the
`postgres` user. `unavailable()` says why it cannot be made here (the tests skip with that reason).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> str | None:
    """None when a private server can be made here, else why not."""
    if _bindir() is None:
        return "the PostgreSQL server binaries (initdb) are not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is missing (needed to run initdb as the postgres user)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "there is no postgres user to run the server as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateServer:
    """initdb + postgres on a free port; start(), stop(fast), kill9(), restart()."""

    def __init__(self, listen: str = "127.0.0.1", hba: list[str] | None = None, port: int | None = None):
        self.bin = _bindir()
        self.port = port or free_port()
        self.listen = listen
        self.tmp = Path(tempfile.mkdtemp(prefix="tracktui-pg-"))
        self.data = self.tmp / "data"
        self.sock = self.tmp / "sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.tmp / "server.log"
        os.chmod(self.tmp, 0o755)
        self.sock.mkdir()
        self._own(self.tmp)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--no-sync", "--locale=C.UTF-8"])
        lines = ["local all all trust", *(hba or []), "host all all 0.0.0.0/0 trust", "host all all ::1/128 trust"]
        (self.data / "pg_hba.conf").write_text("\n".join(lines) + "\n")
        self._own(self.data / "pg_hba.conf")

    @property
    def host(self) -> str:
        return self.listen.split(",")[0]

    def url(self, db: str = "postgres", user: str = "postgres", password: str | None = None,
            host: str | None = None) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@{host or self.host}:{self.port}/{db}"

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)

    def _cmd(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, argv: list[str]) -> None:
        subprocess.run(self._cmd(argv), check=True, capture_output=True)

    def start(self, timeout: float = 30) -> None:
        log = open(self.log, "ab")  # noqa: SIM115 - the server's stderr, for a failing test to show
        self.proc = subprocess.Popen(
            self._cmd([str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sock),
                       "-c", f"listen_addresses={self.listen}", "-c", "fsync=off", "-c", "max_connections=200",
                       "-c", "shared_buffers=32MB"]),
            stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", str(self.sock), "-p", str(self.port)],
                               capture_output=True)
            if r.returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the private PostgreSQL did not start:\n{self.log.read_text()[-2000:]}")

    def _postmaster_pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, mode: str = "fast") -> None:
        """Shut down (fast: SIGINT, as pg_ctl -m fast)."""
        pid = self._postmaster_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT if mode == "fast" else signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def kill9(self) -> None:
        """kill -9 the postmaster (its backends notice and exit; the next start runs crash recovery)."""
        pid = self._postmaster_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self.proc.wait(30)
        # backends left behind exit when they see the postmaster gone; wait until the port is free
        for _ in range(100):
            if subprocess.run(["pgrep", "-f", f"postgres.*-p {self.port}"], capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        for p in glob.glob(str(self.sock / ".s.PGSQL.*")):
            try:
                os.unlink(p)
            except OSError:
                pass

    def restart(self) -> None:
        self.stop()
        self.start()

    def sql(self, statement: str, db: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            conn.execute(statement)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
