"""A throw-away PostgreSQL cluster of the fault suite's own, from the installed server binaries.

Started in a temporary directory on a free port (as pytest-postgresql's process fixture does), never the
machine's shared server: the suite stops it for a while and starts it again, and other tests use that one.
PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tournees.supervisor import die_with_parent, free_port


class NoPostgres(RuntimeError):
    pass


def server_binaries() -> Path:
    """The directory of ``initdb``, ``pg_ctl`` and ``postgres``: Debian's newest version, or on the PATH."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise NoPostgres("no PostgreSQL server binaries (initdb, pg_ctl): install PostgreSQL (Debian: postgresql)")


def _as_owner() -> tuple[Callable[[], None] | None, int | None, int | None]:
    """(preexec_fn, uid, gid) to run the cluster's programs as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return None, None, None
    owner = pwd.getpwnam("postgres")

    def drop() -> None:
        die_with_parent()
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)

    return drop, owner.pw_uid, owner.pw_gid


@dataclass
class PrivateCluster:
    """``init()`` then ``start()``; ``stop()`` is immediate (like a crash); ``destroy()`` at the end.

    The server runs as our child (``postgres`` itself, not through ``pg_ctl``), so it dies with us.
    """

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tournees-pg-")))
    bin: Path = field(default_factory=server_binaries)
    server: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self, databases: list[str]) -> None:
        _, uid, gid = _as_owner()
        if uid is not None and gid is not None:
            os.chown(self.directory, uid, gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        for name in databases:
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def start(self, timeout_s: float = 30.0) -> None:
        drop, _, _ = _as_owner()
        log = (self.directory / "server.log").open("ab")
        self.server = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.directory),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, preexec_fn=drop,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while not self._ready():
            if self.server.poll() is not None:
                raise NoPostgres(f"postgres exited with {self.server.returncode}:\n{self.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise NoPostgres(f"postgres not ready after {timeout_s:.0f} s:\n{self.log()[-2000:]}")
            time.sleep(0.1)

    def stop(self, immediate: bool = True) -> None:
        """SIGQUIT (immediate: no checkpoint, crash recovery at the next start) or SIGINT (fast, clean)."""
        if self.server is None or self.server.poll() is not None:
            return
        self.server.send_signal(signal.SIGQUIT if immediate else signal.SIGINT)
        self.server.wait(30)

    def destroy(self) -> None:
        self.stop(immediate=True)
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _ready(self) -> bool:
        probe = [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def _run(self, program: str, *args: str) -> None:
        drop, _, _ = _as_owner()
        done = subprocess.run(
            [str(self.bin / program), *args], capture_output=True, preexec_fn=drop, cwd=self.directory
        )
        if done.returncode != 0:
            raise NoPostgres(f"{program} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
