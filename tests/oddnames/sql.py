"""SQL the odd project's migration runs through a function of another module, as a project's
helpers do: portadb must see it from the migration's RunPython (``inspect.runs_sql``)."""


def make_raw_index(schema_editor) -> None:
    """An index no model describes; on PostgreSQL, a materialized view (django-oscar makes one)."""
    from tests.oddnames.models import TABLE  # the odd project's model: not installed everywhere

    q = schema_editor.quote_name
    schema_editor.execute(f"CREATE INDEX {q('odd_name_raw')} ON {q(TABLE)} ({q('name')}, {q('id')})")
    if schema_editor.connection.vendor == "postgresql":  # made over the empty table
        schema_editor.execute(f"CREATE MATERIALIZED VIEW {q('odd names')} AS SELECT id, name FROM {q(TABLE)}")
