"""PostgreSQL's catalogue queries for views: what a copy refreshes, and what ``--replace`` drops.

A view's rewrite rule depends on each table and view it reads; ``DROP TABLE
... CASCADE`` follows those dependencies, and so do these queries.
"""

#: The materialized views of the current schema, in the order they were made (a view made from
#: another comes after it), named as ``regclass`` writes them: quoted where they need it.
MATERIALIZED_VIEWS = (
    "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'm' AND n.nspname = current_schema() ORDER BY c.oid"
)

#: Each view (plain or materialized) that reads one of the tables named in the one parameter (a
#: list of unquoted names), directly or through other views: its name and its CREATE statement,
#: with its options (``security_barrier``); its owner, grants, comments and indexes are not in it.
#: Only views are followed: a rule of a table that reads them does not put that table's views in.
DEPENDENT_VIEWS = (
    "WITH RECURSIVE read(oid) AS ("
    " SELECT to_regclass(quote_ident(t))::oid FROM unnest(%s::text[]) t"
    " UNION SELECT r.ev_class FROM read JOIN pg_depend d ON d.refobjid = read.oid"
    " AND d.refclassid = 'pg_class'::regclass AND d.classid = 'pg_rewrite'::regclass"
    " JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class"
    " WHERE r.ev_class <> read.oid AND v.relkind IN ('v', 'm'))"
    " SELECT c.oid::regclass::text, CASE c.relkind WHEN 'm' THEN 'CREATE MATERIALIZED VIEW '"
    " ELSE 'CREATE VIEW ' END || c.oid::regclass::text"
    " || COALESCE(' WITH (' || array_to_string(c.reloptions, ', ') || ')', '')"
    " || ' AS ' || pg_get_viewdef(c.oid)"
    " FROM read JOIN pg_class c ON c.oid = read.oid WHERE c.relkind IN ('v', 'm') ORDER BY c.oid"
)
