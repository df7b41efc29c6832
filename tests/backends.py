"""The backends the tests run on: one entry each in :data:`BACKENDS`, and what follows from it.

Each backend has a source alias (a migrated database holding the zoo, only read),
a target alias (made empty by a test) and, for servers, a second target. From
these come the ``DATABASES`` of tests/settings.py (:func:`databases`) and the
lists the tests parametrise over: :data:`VENDORS`, :data:`SOURCES`,
:data:`TARGETS`, :data:`SERVER_TARGETS` and :data:`DIRECTIONS` (every source to
every target, with ids like ``sqlite->postgresql``; see :func:`direction_id`).
A test that means one vendor on purpose takes its aliases from here too:
:func:`target_of`, :func:`second_target_of`, :func:`source_of`.

Server URLs come from the environment variable each entry names
(``PORTADB_TEST_POSTGRESQL_URL``, ``PORTADB_TEST_MYSQL_URL``), with this
machine's defaults; the second target and the source are databases of the same
server named with ``_2`` and ``_src`` after the URL's database name.

Adding a backend (Oracle is planned) is one more :class:`Backend` entry in
:data:`BACKENDS`, plus its server's URL in the environment variable that entry
names: its aliases join ``DATABASES`` and every test parametrised over the lists
above. (tests/databases.py creates, drops and reaches each server with that
vendor's driver: ``recreate()``, ``reachable()`` and the connection parameters
need a branch for the new vendor.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import dj_database_url


@dataclass(frozen=True)
class Backend:
    #: ``connection.vendor`` of its aliases.
    vendor: str
    #: The environment variable holding the server's URL, and the URL without it; ``None``: SQLite files.
    url_env: str | None
    default_url: str | None
    #: Alias of an empty target.
    target: str
    #: Alias of a second empty target (``None``: the vendor has none).
    second_target: str | None
    #: Alias of a migrated source: the zoo, only read.
    source: str
    #: ``OPTIONS`` and ``TEST`` of every alias of the backend.
    options: dict = field(default_factory=dict, hash=False)
    test: dict = field(default_factory=dict, hash=False)
    #: ``OPTIONS`` added to the first target's only (the second target then goes the other way).
    target_options: dict = field(default_factory=dict, hash=False)

    @property
    def server(self) -> bool:
        return self.url_env is not None

    @property
    def url(self) -> str | None:
        """The server's URL; under pytest-xdist each worker's database names end in its name."""
        if not self.url_env:
            return None
        url = os.environ.get(self.url_env, self.default_url)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return f"{url}_{worker}" if worker else url

    @property
    def aliases(self) -> list[str]:
        return [a for a in (self.source, self.target, self.second_target) if a]

    def url_of(self, name: str, work_dir: str) -> str:
        """The URL of one more database of this backend, ``name`` added to the server URL's database
        name (SQLite: a file of that name in ``work_dir``), for a project of the tests' own."""
        if not self.server:
            return "sqlite:///" + os.path.join(work_dir, f"{name}.sqlite3")
        base = self.url
        return f"{base}_{name}"

    def settings(self, alias: str, work_dir: str) -> dict:
        """The ``DATABASES`` entry of ``alias``, one of :attr:`aliases`."""
        role = {self.source: "source", self.target: "target", self.second_target: "target_2"}[alias]
        if self.server:
            conf = dj_database_url.parse(self.url)
            conf["NAME"] += {"source": "_src", "target": "", "target_2": "_2"}[role]
        else:
            conf = {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(work_dir, f"{role}.sqlite3")}
        options = {**self.options, **(self.target_options if alias == self.target else {})}
        if options:
            conf.setdefault("OPTIONS", {}).update(options)
        if self.test:
            conf["TEST"] = dict(self.test)
        return conf


BACKENDS = (
    Backend("sqlite", None, None, target="sqlite2", second_target=None, source="default"),
    Backend("postgresql", "PORTADB_TEST_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/portadb_test",
            target="postgresql", second_target="postgresql2", source="postgresql_source"),
    Backend("mysql", "PORTADB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/portadb_test",
            target="mysql", second_target="mysql2", source="mysql_source",
            options={"charset": "utf8mb4"}, test={"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
            # portadb loads MySQL through LOAD DATA LOCAL INFILE where allowed (``mysql``),
            # multi-row INSERT elsewhere (``mysql2``).
            target_options={"local_infile": 1}),
)

VENDORS = [b.vendor for b in BACKENDS]
#: Aliases of the migrated zoo sources, one per vendor.
SOURCES = [b.source for b in BACKENDS]
#: Aliases of an empty target, one per vendor.
TARGETS = [b.target for b in BACKENDS]
#: Aliases of an empty target on a database server (not a SQLite file).
SERVER_TARGETS = [b.target for b in BACKENDS if b.server]
#: (source alias, target alias): every vendor's source to every vendor's target.
DIRECTIONS = [(s.source, t.target) for s in BACKENDS for t in BACKENDS]


def backend_of(alias: str) -> Backend:
    """The backend that ``alias`` belongs to."""
    for backend in BACKENDS:
        if alias in backend.aliases:
            return backend
    raise KeyError(f"no test backend has the alias {alias!r}")


def _vendor(vendor: str) -> Backend:
    for backend in BACKENDS:
        if backend.vendor == vendor:
            return backend
    raise KeyError(f"no test backend of vendor {vendor!r}")


def target_of(vendor: str) -> str:
    return _vendor(vendor).target


def second_target_of(vendor: str) -> str:
    second = _vendor(vendor).second_target
    if second is None:
        raise KeyError(f"the {vendor} test backend has no second target")
    return second


def source_of(vendor: str) -> str:
    return _vendor(vendor).source


def direction_id(pair: tuple[str, str]) -> str:
    """``sqlite->postgresql``: the vendors of a (source alias, target alias) pair, as a test id."""
    source, target = pair
    return f"{backend_of(source).vendor}->{backend_of(target).vendor}"


def databases(work_dir: str) -> dict[str, dict]:
    """``DATABASES`` of the test project: ``default`` first, then the targets, then the other sources.

    With ``PORTADB_TEST_NO_MYSQL_ALIASES`` set, the MySQL backend's aliases are
    left out: a project without MySQL aliases (tests/test_misuse.py: the driver
    is missing; Django 6.1 checks the backend of every alias before any command runs).
    ``PORTADB_TEST_EXTRA_URL`` adds the alias ``new`` with that URL.
    """
    backends = [b for b in BACKENDS
                if not (b.vendor == "mysql" and os.environ.get("PORTADB_TEST_NO_MYSQL_ALIASES"))]
    order = ["default"]
    order += [a for b in backends for a in (b.target, b.second_target) if a]
    order += [b.source for b in backends]
    config = {}
    for alias in dict.fromkeys(order):
        backend = backend_of(alias)
        if backend in backends:
            config[alias] = backend.settings(alias, work_dir)
    if os.environ.get("PORTADB_TEST_EXTRA_URL"):
        config["new"] = dj_database_url.parse(os.environ["PORTADB_TEST_EXTRA_URL"])
    return config
