"""The demo: a sample shop project in SQLite, copied with ``portadb copy``.

Run it with ``python -m portadb.demo`` (or ``nox -s demo``). The ``shop`` app
and :mod:`portadb.demo.data` also make the benchmark's data set.
"""
