"""The benchmark: ``python -m tests.bench --rows N`` (or ``nox -s bench -- --rows N``).

Not collected by pytest: no module here starts with ``test_``.
"""
