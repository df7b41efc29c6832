"""Progress bars: tqdm on a terminal, a silent stand-in everywhere else (copy and verify alike)."""

from __future__ import annotations

import functools
import sys


class NullBar:
    """Does nothing, so copy loops never branch on whether a bar is shown."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class Progress:
    """One overall bar and one bar per table, or none."""

    def __init__(self, enabled: bool, total_rows: int = 0, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled and _isatty(self.stream)
        self.overall = self._bar(total_rows, "all tables", position=0)

    def set_total(self, rows: int) -> None:
        """The overall bar's total, where it is only known once the work has begun."""
        if self.enabled:
            self.overall.total = rows
            self.overall.refresh()

    def table(self, name: str, rows: int):
        return self._bar(rows, name, position=1, leave=False)

    def _bar(self, total: int, desc: str, **kwargs):
        if not self.enabled:
            return NullBar()
        return _bar_type()(total=total, desc=desc, unit="rows", unit_scale=True, file=self.stream,
                           dynamic_ncols=True, **kwargs)

    def close(self) -> None:
        self.overall.close()


@functools.cache
def _bar_type() -> type:
    """tqdm's bar without its monitor thread: workers are forked while bars show, and where
    another thread runs portadb does not fork (the child could inherit a lock held forever)."""
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0

    return Bar


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Tee:
    """Feed several bars together (a table's and the overall one)."""

    def __init__(self, *bars):
        self.bars = bars

    def update(self, n: int) -> None:
        for bar in self.bars:
            bar.update(n)
