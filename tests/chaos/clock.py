"""The services' wall clock, moved forward while they run: libfaketime preloaded into their processes.

Every process under test (the three services, the fake Twilio, the SMTP sink) reads the same offset file, as
processes on one machine whose clock was stepped (NTP, say) would. Only the wall clock moves: monotonic
clocks, which asyncio's timers use, run on (``DONT_FAKE_MONOTONIC``). nats-server and PostgreSQL keep the real
time, as other machines would. libfaketime comes from Debian (``tests/install_debian_packages.sh``).
"""

from __future__ import annotations

import datetime as dt
import glob
import time
from dataclasses import dataclass
from pathlib import Path


class NoFaketime(RuntimeError):
    pass


def faketime_library() -> str:
    """libfaketime's multi-threaded build (the services run threads: the Twilio SDK's pool)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    if not found:
        raise NoFaketime("libfaketime is missing: `make test` installs it (Debian: apt-get install libfaketime)")
    return found[0]


@dataclass
class MovableClock:
    """Wall time = real time + ``offset``; ``move_to`` steps it forward for every process at once."""

    file: Path
    offset: dt.timedelta = dt.timedelta(0)
    """Whole seconds, as written to the file."""
    refresh_s: int = 1
    """How often the processes read the file again: a step reaches them within that."""

    def __post_init__(self) -> None:
        self._steps: list[tuple[float, dt.timedelta]] = []  # (when, by time.monotonic(); the offset before it)
        self._write()

    def environment(self) -> dict[str, str]:
        return {
            "LD_PRELOAD": faketime_library(),
            "FAKETIME_TIMESTAMP_FILE": str(self.file),
            "FAKETIME_CACHE_DURATION": str(self.refresh_s),
            "DONT_FAKE_MONOTONIC": "1",
        }

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def earliest_now(self) -> dt.datetime:
        """The earliest wall time a process may read now: a step reaches each within ``refresh_s`` (and a bit),
        so just after one some still read the time before it."""
        recent = [before for at, before in self._steps if time.monotonic() - at < self.refresh_s + 1]
        return dt.datetime.now(dt.UTC) + min([self.offset, *recent])

    def move_to(self, moment: dt.datetime) -> None:
        """Step the wall clock forward to ``moment`` (never back: a step back would replay the past)."""
        offset = dt.timedelta(seconds=round((moment - dt.datetime.now(dt.UTC)).total_seconds()))
        if offset < self.offset:
            raise ValueError(f"the clock only moves forward (to {moment.isoformat()})")
        self._steps.append((time.monotonic(), self.offset))
        self.offset = offset
        self._write()

    def _write(self) -> None:
        """Atomically: a process reading a half-written file would jump anywhere."""
        staged = self.file.with_suffix(".new")
        staged.write_text(f"{self.offset.total_seconds():+.0f}s\n")
        staged.replace(self.file)
