"""Checks of UUID and IP address columns."""

from __future__ import annotations

import ipaddress
import re
import uuid
from functools import partial
from itertools import repeat
from operator import attrgetter

from django.utils.ipv6 import clean_ipv6_address

from ..reports.model import FindingKind as K
from .base import ColumnCheck, each, preview, type_name

_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX = re.compile(r"[0-9a-f]*")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")


def uuid_check(field, kind, source, target, want) -> ColumnCheck | None:
    texts = want(K.INVALID_UUID)
    # MariaDB's uuid type refuses some UUIDs: whatever the source, the target is asked.
    refusal = target.uuid_refusal if target.refuses_some_uuids else None
    if not texts and refusal is None:
        return None

    def problem(value):
        if isinstance(value, uuid.UUID):
            number = value.int
        elif type(value) is str and _HEX32.fullmatch(value):
            number = int(value, 16)
        else:
            try:
                number = uuid.UUID(value if type(value) is str else None).int
            except (TypeError, ValueError):
                return K.INVALID_UUID, f"{preview(value)} is not a UUID"
        reason = refusal(number) if refusal is not None else None
        return (K.INVALID_UUID, f"{uuid.UUID(int=number)} {reason}") if reason else None

    def check(values):
        # The chunk's joined text in one match: 32 lowercase hex digits each; UUIDs read
        # by a typed source as they are. Then the numbers the target refuses, if any.
        present = [v for v in values if v is not None]
        kinds = set(map(type, present))
        if kinds <= {str} and set(map(len, present)) <= {32} and _HEX.fullmatch("".join(present)):
            numbers = partial(map, int, present, repeat(16))
        elif kinds <= {uuid.UUID}:
            numbers = partial(map, _number_of, present)
        else:
            return each(values, problem)
        if refusal is None or not any(map(refusal, numbers())):
            return []
        return each(values, problem)

    return check


_number_of = attrgetter("int")


def ip_check(field, kind, source, target, want) -> ColumnCheck | None:
    unpack = getattr(field, "unpack_ipv4", False)
    validates = target.validates_ip_addresses
    # A char(39) column: text stored as it is, but no longer (an inet's address with a netmask is).
    limit = field.max_length if target.enforces_max_length and not validates and field.max_length else None
    if not want(K.INVALID_IP):
        if limit is None:
            return None
        return lambda values: each(values, partial(_too_long, limit))

    column = field.db_type(target.connection) or ""
    padded = target.drops_trailing_spaces_of_char and column.lower().startswith("char(")

    def problem(value):
        if limit is not None and (found := _too_long(limit, value)):
            return found
        if type(value) is not str:
            return K.INVALID_IP, f"a {type_name(value)} where an IP address is stored"
        if padded and value.endswith(" "):
            return (K.INVALID_IP, f"{preview(value)} ends in a space, which a {column} column of"
                    f" {target.display_name} gives back without")
        if _IPV4.fullmatch(value):
            return None
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if validates:
                return K.INVALID_IP, f"{preview(value)} is not an IP address, which {target.vendor} refuses"
            return None  # stored as the text it is
        # Django's GenericIPAddressField rewrites IPv6 addresses on the way in.
        if ":" in value and clean_ipv6_address(value, unpack) != value:
            return (K.INVALID_IP, "is not in canonical form; Django would store it as "
                    f"{clean_ipv6_address(value, unpack)!r}")
        return None

    return lambda values: each(values, problem)


def _too_long(limit: int, value) -> tuple | None:
    if type(value) is str and len(value) > limit:
        return K.TOO_LONG, f"{len(value)} characters; max_length is {limit}"
    return None
