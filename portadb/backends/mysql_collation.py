"""MySQL's collations as the server applies them: sort keys equal exactly when it says equal."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence

#: Values per WEIGHT_STRING statement where the server has no JSON_TABLE.
_KEY_BATCH = 500
#: Characters of text per JSON_TABLE statement: at most 12 bytes each as JSON escapes, so a
#: statement stays within MySQL 5.7's default max_allowed_packet (4 MB), however wide the text.
_JSON_CHARACTERS = 256 * 1024


def weights(connection, quote: Callable[[str], str], values: Sequence[str], charset: str,
            collation: str) -> list[bytes]:
    """The server's own sort key (``WEIGHT_STRING``) of each text of ``values`` in ``collation``.

    Where the server has ``JSON_TABLE`` (MariaDB 10.6, MySQL 8.0.4), the texts
    go as JSON arrays, as many as a statement holds each: half the time of
    statements of 500 literals, most of it the server's, and none of the
    client's escaping. The JSON is ASCII (``\\u`` escapes), so the connection's
    character set cannot change a text on the way; older servers get the
    statements of literals.
    """
    def expression(value: str) -> str:  # no str.format over quoted names: a brace is data there
        return f"WEIGHT_STRING(CONVERT({value} USING {quote(charset)}) COLLATE {quote(collation)})"

    keys = []
    with connection.cursor() as cursor:
        if _has_json_table(connection):
            statement = (f"SELECT {expression('j.v')} FROM JSON_TABLE(%s, '$[*]' COLUMNS"
                         " (n FOR ORDINALITY, v LONGTEXT CHARACTER SET utf8mb4 PATH '$')) j ORDER BY j.n")
            for part in _slices(values):
                cursor.execute(statement, [json.dumps(part)])
                keys += [key for key, in cursor.fetchall()]
            return keys
        for i in range(0, len(values), _KEY_BATCH):
            batch = values[i:i + _KEY_BATCH]
            cursor.execute("SELECT " + ", ".join([expression("%s")] * len(batch)), batch)
            keys += cursor.fetchone()
    return keys


def _slices(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """``values`` in runs of at most :data:`_JSON_CHARACTERS` characters (a longer text alone)."""
    start, size = 0, 0
    for i, text in enumerate(values):
        if size and size + len(text) > _JSON_CHARACTERS:
            yield values[start:i]
            start, size = i, 0
        size += len(text)
    if start < len(values):
        yield values[start:]


def _has_json_table(connection) -> bool:
    return connection.mysql_version >= ((10, 6) if connection.mysql_is_mariadb else (8, 0, 4))
