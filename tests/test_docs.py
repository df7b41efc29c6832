"""The docs keep up with the command: every subcommand and option is explained.

The reference page (docs/reference/command.rst) is generated from the parser
at build time, so it can never miss an option; what can fall behind is the
hand-written part. Every option of every subcommand must be linked from the
hand-written pages as ``:option:`portadb <subcommand> --option```, and every
such link must name an option that exists (as sqlite-utils' tests/test_docs.py
does for its commands).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

from portadb.management.commands.portadb import DJANGO_COMMON, Command

DOCS = Path(__file__).resolve().parent.parent / "docs"
REFERENCE = DOCS / "reference" / "command.rst"
LINK = re.compile(r":option:`(?:[^`<]*<)?portadb (\w[\w-]*) (--?[\w-]+)>?`")


def _parser() -> argparse.ArgumentParser:
    return Command().create_parser("manage.py", "portadb")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    """portadb's own options of a subcommand (Django's are documented once, for all of them)."""
    return [a for a in sub._actions if a.option_strings and not isinstance(a, argparse._HelpAction)
            and not set(a.option_strings) & set(DJANGO_COMMON)]


def _name(action: argparse.Action) -> str:
    """The option's first long spelling: ``--verbosity`` for ``-v, --verbosity``."""
    return next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])


def _hand_written() -> dict[str, str]:
    return {
        str(p.relative_to(DOCS)): p.read_text(encoding="utf-8")
        for p in sorted(DOCS.rglob("*.rst"))
        if "_build" not in p.parts
    }


SUBCOMMANDS = _subcommands()
OPTIONS = [(name, _name(a)) for name, sub in SUBCOMMANDS.items() for a in _options(sub)]


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_subcommand_is_shown_in_an_example(subcommand):
    pages = {page: text for page, text in _hand_written().items() if page != "reference/command.rst"}
    shown = [page for page, text in pages.items() if re.search(rf"manage\.py portadb {subcommand}\b", text)]
    assert shown, f"no page outside the reference shows `manage.py portadb {subcommand}`"


@pytest.mark.parametrize("subcommand,option", OPTIONS, ids=[f"{s} {o}" for s, o in OPTIONS])
def test_option_is_explained_in_the_hand_written_docs(subcommand, option):
    linked = {(s, o) for text in _hand_written().values() for s, o in LINK.findall(text)}
    assert (subcommand, option) in linked, (
        f"no hand-written page links :option:`portadb {subcommand} {option}`; "
        "say in the tutorial, a how-to or a reference page what it is for"
    )


def test_option_links_name_existing_options():
    known = {(s, o) for s, sub in SUBCOMMANDS.items() for a in _options(sub) for o in a.option_strings}
    stale = sorted(
        f"{page}: portadb {s} {o}"
        for page, text in _hand_written().items()
        for s, o in LINK.findall(text)
        if (s, o) not in known
    )
    assert not stale, f"links to options that do not exist: {stale}"


def _extension():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import portadb_cli
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return portadb_cli


def test_reference_page_is_generated_from_the_parser():
    assert ".. portadb-command::" in REFERENCE.read_text(encoding="utf-8")
    rst = "\n".join(_extension().rst_lines(_parser()))
    for subcommand, option in OPTIONS:
        assert f".. program:: portadb {subcommand}" in rst
        assert re.search(rf"^\.\. option:: .*{re.escape(option)}\b", rst, re.M), (subcommand, option)


def test_option_names_in_the_reference_are_literals():
    """Issue 15, item 9: Sphinx's smart quotes turned ``--reject-file`` in running text into a dash."""
    lines = _extension().rst_lines(_parser())
    descriptions = [line for i, line in enumerate(lines) if i and lines[i - 2].startswith(".. option::")]
    assert any("``--reject-file``" in line for line in descriptions)
    bare = [line for line in descriptions if "--" in re.sub(r"``[^`]*``", "", line)]
    assert bare == []


def test_djangos_options_are_documented_once_for_every_subcommand():
    rst = "\n".join(_extension().rst_lines(_parser()))
    for option in DJANGO_COMMON:
        assert len(re.findall(rf"^\.\. option:: {option}\b", rst, re.M)) == 1, option
    assert "before or after the subcommand" in rst


ROOT = DOCS.parent


def test_readme_shows_how_to_install_an_unreleased_version():
    """Issue 15, item 9: 0.1.0 is not on PyPI; the README said only ``pip install 'portadb[...]'``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install './portadb[postgresql]'" in readme


def test_the_docs_build_without_the_test_dependencies():
    """Issue 15, item 9: ``nox -s docs`` installed the drivers and the test dependencies (80 s)."""
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    session = noxfile.split("def docs(", 1)[1].split("@nox.session", 1)[0]
    assert 'session.install("-e", ".", "-r", "docs/requirements.txt")' in session
    assert "TEST_DEPS" not in session and "postgresql" not in session
    wanted = [line.split(">")[0].split("=")[0].strip()
              for line in (DOCS / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert wanted == ["sphinx"]
