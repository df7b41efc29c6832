"""PostgreSQL's change log triggers (``copy --track-changes``; :mod:`portadb.tracking`).

One PL/pgSQL function per table logs the key of each row an insert, update
or delete touched, and a NULL key for a ``TRUNCATE`` (the whole table). It
runs as its owner (``SECURITY DEFINER``), so the site's own database user
needs no right on the log, with a fixed ``search_path`` and the log's schema
named, so neither the writer's session nor a table of the same name in
another schema can redirect it. Names reach the body as quoted identifiers
only, and the dollar quote around the body is one the body does not contain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def track_sql(quote: Callable[[str], str], schema: str, table: str, key: str, table_id: int, log: str,
              names: Sequence[str]) -> list[str]:
    """The function and its two triggers, ``names`` (row, truncate), for ``table``."""
    q, k = quote, quote(key)
    insert = f"INSERT INTO {q(schema)}.{q(log)} ({q('table_id')}, {q('row_key')}) VALUES ({table_id},"
    body = (f"BEGIN IF TG_OP = 'TRUNCATE' THEN {insert} NULL); RETURN NULL; END IF;"
            f" IF TG_OP <> 'INSERT' THEN {insert} OLD.{k}); END IF;"
            f" IF TG_OP = 'INSERT' THEN {insert} NEW.{k});"
            f" ELSIF TG_OP = 'UPDATE' THEN IF NEW.{k} IS DISTINCT FROM OLD.{k} THEN {insert} NEW.{k});"
            f" END IF; END IF; RETURN NULL; END")
    tag = next(t for n in range(len(body) + 1) if (t := f"$portadb{n or ''}$") not in body)
    function = f"{q(schema)}.{q(f'portadb_{table_id}_log')}"
    on_rows, on_truncate = map(q, names)
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
        f" SET search_path = pg_catalog, pg_temp AS {tag}{body}{tag}",
        f"CREATE TRIGGER {on_rows} AFTER INSERT OR UPDATE OR DELETE ON {q(table)} FOR EACH ROW"
        f" EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {on_truncate} AFTER TRUNCATE ON {q(table)} FOR EACH STATEMENT"
        f" EXECUTE FUNCTION {function}()",
    ]
