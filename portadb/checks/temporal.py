"""Checks of date, time and datetime columns: impossible dates and time zones."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Sequence

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime, parse_time

from ..reports.model import FindingKind as K
from .base import ColumnCheck, each, type_name


def date_check(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.IMPOSSIBLE_DATE):
        return None

    def check(values):
        if _all_iso(values, dt.date):
            return []
        return each(values, lambda v: _temporal(v, dt.date, parse_date, "date"))

    return check


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


def datetime_check(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.IMPOSSIBLE_DATE) and not want(K.TIMEZONE):
        return None

    def problem(value):
        found = _temporal(value, dt.datetime, parse_datetime, "date and time")
        if found or isinstance(value, dt.datetime):
            return found
        if not settings.USE_TZ and parse_datetime(value).tzinfo is not None:
            return (K.TIMEZONE,
                    "carries a UTC offset in a project with USE_TZ = False; the offset would be lost")
        return None

    def check(values):
        if settings.USE_TZ and _all_iso(values, dt.datetime):
            return []
        return each(values, problem)

    return check


def time_check(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.IMPOSSIBLE_DATE) and not want(K.TIMEZONE):
        return None

    def problem(value):
        found = _temporal(value, dt.time, parse_time, "time")
        if found or isinstance(value, dt.time):
            return found
        try:
            aware = dt.time.fromisoformat(value).tzinfo is not None
        except ValueError:
            aware = False
        if aware:
            return K.TIMEZONE, "carries a UTC offset, which Django drops when it reads a time"
        return None

    return lambda values: each(values, problem)


def _temporal(value, typed, parse, what) -> tuple[K, str] | None:
    if isinstance(value, typed):
        return None
    if type(value) is not str:
        return K.IMPOSSIBLE_DATE, f"a {type_name(value)} where a {what} is stored"
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


