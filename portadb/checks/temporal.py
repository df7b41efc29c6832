"""Checks of date, time and datetime columns.

Impossible dates (February 30th), zero dates (``0000-00-00``), values Python
cannot hold (±infinity, BC dates, ``24:00``), fractions finer than the
microseconds Django keeps, UTC offsets Django would drop, and -- without
``USE_TZ`` -- naive wall times that the target's time zone skips.

A typed source hands most of these over as their text (the backends' read
cursors do so rather than read NULL or raise), so every check starts from:
a value of the column's Python type is fine, text is looked at.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from functools import lru_cache, partial

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime, parse_time

from ..reports.model import FindingKind as K
from .base import ColumnCheck, each, type_name

_NONE = type(None)
#: A year, month or day of 0 at the start: MySQL's zero dates.
_ZERO = re.compile(r"\s*(?:0000-\d\d-\d\d|\d{4}-00-\d\d|\d{4}-\d\d-00)")
#: Beyond Python's years: BC (PostgreSQL's suffix), five digits or more, ±infinity.
_EXTREME = re.compile(r"\s*(?:[+-]?infinity\s*$|\d{5,}-|.*\sBC\s*$)", re.IGNORECASE)
#: A time of 24:00 (PostgreSQL's end of day, which Python's times end before).
_END_OF_DAY = re.compile(r"\s*24:00")
#: More digits after the seconds than the microseconds Django keeps.
_SUB_MICRO = re.compile(r":\d\d[.,](\d{7,})")
#: The value is fine: the target stores its text again exactly.
_EXACT = object()


def date_check(field, kind, source, target, want) -> ColumnCheck | None:
    extreme = _keeps_extremes(source, target)
    if not any(map(want, (K.IMPOSSIBLE_DATE, K.ZERO_DATE, *_out_of_range(extreme)))):
        return None
    problem = partial(_temporal, typed=dt.date, parse=parse_date, what="date", target=target,
                      extreme=extreme)

    def check(values):
        if _only(values, dt.date) or _all_iso(values, dt.date):
            return []
        return each(values, problem)

    return check


def datetime_check(field, kind, source, target, want) -> ColumnCheck | None:
    zone = _skipping_zone(target) if want(K.NONEXISTENT_TIME) else None
    extreme = _keeps_extremes(source, target)
    kinds = (K.IMPOSSIBLE_DATE, K.ZERO_DATE, K.TOO_PRECISE, K.TIMEZONE, *_out_of_range(extreme))
    if not any(map(want, kinds)) and zone is None:
        return None
    gaps = partial(_gap_problems, zone, target) if zone is not None else None

    def problem(value):
        found = _temporal(value, dt.datetime, parse_datetime, "date and time", target, extreme)
        if found or isinstance(value, dt.datetime):
            return found
        if not settings.USE_TZ and parse_datetime(value).tzinfo is not None:
            return (K.TIMEZONE,
                    "carries a UTC offset in a project with USE_TZ = False; the offset would be lost")
        return None

    def check(values):
        plain = _only(values, dt.datetime)
        if not plain and not (settings.USE_TZ and _all_iso(values, dt.datetime)
                              and not _SUB_MICRO.search(_text(values))):
            found = each(values, problem)
        else:
            found = []
        if gaps is not None:
            bad = {i for i, _, _ in found}
            found += [p for p in gaps(values) if p[0] not in bad]
        return found

    return check


def time_check(field, kind, source, target, want) -> ColumnCheck | None:
    extreme = _keeps_extremes(source, target)
    if not any(map(want, (K.IMPOSSIBLE_DATE, K.TOO_PRECISE, K.TIMEZONE, *_out_of_range(extreme)))):
        return None

    def problem(value):
        found = _temporal(value, dt.time, parse_time, "time", target, extreme)
        if found or isinstance(value, dt.time):
            return found
        try:
            aware = dt.time.fromisoformat(value).tzinfo is not None
        except ValueError:
            aware = False
        if aware:
            return K.TIMEZONE, "carries a UTC offset, which Django drops when it reads a time"
        return None

    def check(values):
        if _only(values, dt.time):
            return []
        return each(values, problem)

    return check


def _out_of_range(extreme: bool) -> tuple:
    """The kind of a value beyond Python's, where the target does not keep the source's text."""
    return () if extreme else (K.DATE_OUT_OF_RANGE,)


def _keeps_extremes(source, target) -> bool:
    """Both databases hold values Python's dates cannot: the source's text is stored again exactly."""
    return source.holds_extreme_dates and target.holds_extreme_dates


def _only(values: Sequence, typed) -> bool:
    """Whether every value is ``None`` or exactly a ``typed`` (as a typed driver reads them): one C pass."""
    return set(map(type, values)) <= {typed, _NONE}


def _all_iso(values: Sequence, typed) -> bool:
    """Whether every value is ``None``, a ``typed`` or text its ``fromisoformat`` reads.

    One pass in C over the chunk; a chunk that fails it is checked value by value.
    """
    texts = [v for v in values if v is not None and not isinstance(v, typed)]
    try:
        deque(map(typed.fromisoformat, texts), maxlen=0)
    except (TypeError, ValueError):
        return False
    return True


def _text(values: Sequence) -> str:
    return "\n".join(v for v in values if type(v) is str)


def _temporal(value, typed, parse, what, target, extreme) -> tuple[K, str] | None:
    if isinstance(value, typed):
        return None
    if type(value) is not str:
        return K.IMPOSSIBLE_DATE, f"a {type_name(value)} where a {what} is stored"
    special = _special(value, what, target, extreme)
    if special is not None:
        return None if special is _EXACT else special
    try:
        typed.fromisoformat(value)  # what Django's parser tries first, in C
        return None
    except ValueError:
        pass
    try:
        parsed = parse(value)
    except ValueError as e:
        return K.IMPOSSIBLE_DATE, f"is not a valid {what} ({e})"
    if parsed is None:
        return K.IMPOSSIBLE_DATE, f"is not a {what} Django can read (Django would read NULL)"
    return None


def _special(value: str, what: str, target, extreme: bool):
    """The refusal of a zero date, a value beyond Python's, or sub-microseconds; ``_EXACT`` or ``None``."""
    if what == "time" and extreme and _END_OF_DAY.match(value):
        return _EXACT
    if _EXTREME.match(value):
        if extreme:
            return _EXACT
        return (K.DATE_OUT_OF_RANGE, f"is a {what} Python cannot hold (its years run from 1 to 9999),"
                f" so Django cannot read it, and {target.vendor} has no column that keeps it")
    if what != "time" and _ZERO.match(value):
        return (K.ZERO_DATE, "is a zero date (a year, month or day of 0), which is no date: Django"
                " reads it as None")
    fraction = _SUB_MICRO.search(value)
    if fraction:
        return (K.TOO_PRECISE, f"has {len(fraction.group(1))} digits after the seconds; Django keeps 6"
                " (microseconds) and would cut the rest off")
    return None


# -- wall times a time zone skips ---------------------------------------------------


def _skipping_zone(target):
    """The time zone naive datetimes are stored in on ``target``, where it turns them into instants."""
    if settings.USE_TZ or not target.stores_datetimes_as_instants:
        return None
    return zoneinfo.ZoneInfo(target.connection.timezone_name)


def _gap_problems(zone, target, values: Sequence) -> list:
    """(row, kind, reason) of each naive datetime (or its text) that ``zone`` skips.

    The chunk's range is compared with the zone's gaps of those years first;
    only a chunk that overlaps one is looked at value by value.
    """
    stamps = []
    for value in values:
        if isinstance(value, dt.datetime):
            stamps.append(value if value.tzinfo is None else None)
        elif type(value) is str:
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            stamps.append(parsed if parsed is not None and parsed.tzinfo is None else None)
        else:
            stamps.append(None)
    present = [s for s in stamps if s is not None]
    if not present:
        return []
    low, high = min(present), max(present)
    spans = [span for year in range(low.year, high.year + 1) for span in _gaps(zone, year)
             if span[0] <= high and low < span[1]]
    if not spans:
        return []
    found = []
    starts = [start for start, _ in spans]
    for i, stamp in enumerate(stamps):
        if stamp is None:
            continue
        j = bisect_left(starts, stamp + dt.timedelta(microseconds=1)) - 1
        if j >= 0 and stamp < spans[j][1]:
            start, end = spans[j]
            found.append((i, K.NONEXISTENT_TIME,
                          f"is a wall time that TIME_ZONE {str(zone)!r} skips (clocks go from {start:%H:%M}"
                          f" to {end:%H:%M} that day); {target.vendor} would store it {end - start} later"))
    return found


@lru_cache(maxsize=512)
def _gaps(zone, year: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """The naive wall-time spans ``zone`` skips in ``year`` (daylight saving starts), in order."""
    if not 1 < year < 9999:
        return []
    utc = dt.timezone.utc
    start = dt.datetime(year, 1, 1, tzinfo=utc) - dt.timedelta(days=1)
    days = 368
    offsets = [(start + dt.timedelta(days=d)).astimezone(zone).utcoffset() for d in range(days)]
    spans = []
    for d in range(1, days):
        before, after = offsets[d - 1], offsets[d]
        if after is None or before is None or after <= before:
            continue
        low, high = start + dt.timedelta(days=d - 1), start + dt.timedelta(days=d)
        while high - low > dt.timedelta(seconds=1):  # the instant the offset changes
            middle = low + (high - low) / 2
            if middle.astimezone(zone).utcoffset() == before:
                low = middle
            else:
                high = middle
        wall = (high + before).replace(tzinfo=None)
        if wall.year == year:
            spans.append((wall, (high + after).replace(tzinfo=None)))
    return spans
