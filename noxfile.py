"""Sessions: tests (Python x Django), lint, docs, demo, bench.

    nox -s demo     copy a sample project SQLite -> PostgreSQL and print the reports
    nox             lint, the test suite against the real servers (every Python x Django pair
                    here) and a real third-party project (Wagtail) copied and used
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|venv"
nox.options.sessions = ["lint", "tests", "realworld"]
nox.options.reuse_existing_virtualenvs = True

# (Python, Django) pairs that Django supports; nox runs those whose Python is installed.
# Each Django line once: the oldest pair, the LTS on the default Python, the newest. Every pair
# more is twelve to fifteen minutes more of CI, which must stay well under an hour: with
# (3.12, 6.0) as well it took 60 minutes on a slow machine (2026-12-06).
MATRIX = [
    ("3.10", "4.2"),
    ("3.11", "5.2"),
    ("3.13", "6.1"),
]
#: The pair that runs the tests marked slow too (processes killed or cut off, a source written
#: during the copy, memory, a long loop: what Django's version does not change); the others
#: leave them out.
DEFAULT_PAIR = ("3.11", "5.2")
# jsonschema: the tests validate every JSON report they produce against the
# schemas portadb ships (portadb/reports/schemas); portadb itself never needs it.
TEST_DEPS = ["pytest>=8", "pytest-django>=4.8", "pytest-xdist>=3", "django-taggit>=5", "Pillow",
             "jsonschema>=4.18"]
#: Each test session's workers (pytest-xdist): the suite waits on its servers and child processes
#: much of the time, so two workers on two cores finish in about half the time.
WORKERS = os.environ.get("PORTADB_TEST_WORKERS", "2")


@nox.session(name="tests")
@nox.parametrize("python,django", MATRIX, ids=[f"py{p}-django{d}" for p, d in MATRIX])
def tests(session: nox.Session, django: str) -> None:
    """The test suite against real SQLite, PostgreSQL and MariaDB."""
    session.install("-e", ".[postgresql,mysql]", f"django~={django}.0", *TEST_DEPS)
    byte_compile(session)  # the tests start many child processes
    marks = [] if (session.python, django) == DEFAULT_PAIR else ["-m", "not slow"]
    session.run("python", "-m", "pytest", "-n", WORKERS, "--ignore=tests/realworld", *marks, *session.posargs)


@nox.session(python="3.11")
def realworld(session: nox.Session) -> None:
    """Wagtail's own test project (from PyPI) copied between the backends, then used."""
    session.install("-e", ".[postgresql,mysql]", "django~=5.2.0", "wagtail~=8.0", "Jinja2>=3,<3.2",
                    *TEST_DEPS)
    byte_compile(session)
    # One pytest process: the three copies share their sources, and the tests build those and the
    # copies (a migrate of 391 migrations each) two at a time themselves.
    session.run("python", "-m", "pytest", "tests/realworld", *session.posargs)


def byte_compile(session: nox.Session) -> None:
    """Byte-compile the venv and the project, as pip does on install.

    uv does not, and where PYTHONDONTWRITEBYTECODE is set every new Python
    process would compile Django again (about a second each).
    """
    # A file that does not compile (a package's own fixture, say) only stays uncompiled.
    session.run("python", "-m", "compileall", "-q", "-j", "0", session.virtualenv.location,
                "portadb", "tests", silent=True, success_codes=[0, 1])


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff over the package and the tests."""
    session.install("ruff")
    session.run("ruff", "check", "portadb", "tests", "noxfile.py")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs; warnings are errors. Needs no driver and no test dependency."""
    session.install("-e", ".", "-r", "docs/requirements.txt")
    # -E: read every page each time, so no warning hides in a cached page.
    session.run("sphinx-build", "-E", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Build a sample shop in SQLite, copy it to PostgreSQL, print the reports."""
    session.install("-e", ".[postgresql]")
    session.run("python", "-m", "portadb.demo", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks side by side: nox -s bench -- --rows 1000000."""
    session.install("-e", ".[postgresql,mysql]", *TEST_DEPS)
    byte_compile(session)  # each contestant is a new process
    session.run("python", "-m", "tests.bench", *session.posargs,
                env={"PYTHONPATH": os.getcwd()})
