"""Progress as plain lines, for logs and pipes: what the command line prints on stderr when stderr is not a
terminal (or with ``--json``), where a progress bar would print nothing useful.

Each stage says how much it has to do when it starts (``embed: 2225 to do``), then prints a line every
:data:`PERIOD` seconds and at every tenth of the way, e.g. ``embed: 1,200/2,225 texts (54%), 38 texts/s``.
The environment variable ``EMBEDSCOPE_PROGRESS_SECONDS`` sets another period (``0``: a line at every step).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds between two progress lines of a stage (besides a line at every tenth of the way).
PERIOD = 10.0
#: What a stage counts (default: items).
UNITS = {"embed": "texts", "embed images": "images", "compress": "codecs", "translate eval": "fits", "ingest images": "files"}


def period_from_env(default: float = PERIOD) -> float:
    """The period set by ``EMBEDSCOPE_PROGRESS_SECONDS``, else ``default`` (an unreadable value is ignored)."""
    raw = os.environ.get("EMBEDSCOPE_PROGRESS_SECONDS")
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 0 else default


@dataclass
class _Stage:
    total: int
    start: float
    first_done: int
    last_time: float
    last_tenth: int


class PlainProgress:
    """A progress callback ``(stage, done, total)`` that writes plain lines.

    Parameters
    ----------
    write
        Writes one line (without its newline).
    period
        Seconds between lines of a stage; default :func:`period_from_env`.
    clock
        Monotonic seconds (for tests).
    """

    def __init__(self, write: Callable[[str], None], period: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write = write
        self.period = period_from_env() if period is None else period
        self.clock = clock
        self.stages: dict[str, _Stage] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        st = self.stages.get(stage)
        if st is None:
            self.stages[stage] = _Stage(total, now, done, now, self._tenth(done, total))
            self.write(f"{stage}: {total} to do")
            return
        st.total = total
        tenth = self._tenth(done, total)
        if total <= 0 or (tenth <= st.last_tenth and now - st.last_time < self.period):
            return
        st.last_tenth, st.last_time = max(tenth, st.last_tenth), now
        unit = UNITS.get(stage, "items")
        line = f"{stage}: {done:,}/{total:,} {unit} ({100 * done // total}%)"
        elapsed = now - st.start
        if elapsed > 0 and done > st.first_done:
            rate = (done - st.first_done) / elapsed
            line += f", {rate:,.0f} {unit}/s" if rate >= 10 else f", {rate:.2g} {unit}/s"
        self.write(line)

    @staticmethod
    def _tenth(done: int, total: int) -> int:
        return 10 * done // total if total > 0 else 0
