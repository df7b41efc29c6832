"""``.. portadb-command::`` renders ``manage.py portadb`` from its own argparse parser.

The parser is built the way Django builds it (``Command().create_parser``), so
a subcommand or option added to ``portadb/management/commands/portadb.py``
appears in the reference with no edit here. Each subcommand becomes a section
with its usage line and one ``.. option::`` per option, under
``.. program:: portadb <subcommand>``; hand-written pages link to them with
``:option:`portadb copy --replace```, and Sphinx warns (an error under ``-W``)
about a link to an option that does not exist.
"""

from __future__ import annotations

import argparse
import re

PROGRAM = "portadb"
#: Options Django adds to every management command; shown once, compactly.
DJANGO_OPTIONS = {"--version", "--settings", "--pythonpath", "--traceback", "--no-color",
                  "--force-color", "--skip-checks"}


def command_parser() -> argparse.ArgumentParser:
    """``manage.py portadb``'s parser, exactly as ``manage.py`` builds it."""
    from portadb.management.commands.portadb import Command

    return Command().create_parser("manage.py", PROGRAM)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    """``{name: (parser, one-line help)}`` for every subcommand, in definition order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return {name: (sub, helps.get(name, "")) for name, sub in action.choices.items()}
    return {}


def options(parser: argparse.ArgumentParser, django: bool = True) -> list[argparse.Action]:
    """The options of ``parser`` a user passes, without ``--help`` (and without Django's unless ``django``)."""
    return [
        a for a in parser._actions
        if a.option_strings and not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
        and (django or not set(a.option_strings) & DJANGO_OPTIONS)
    ]


def _escape(text: str) -> str:
    return re.sub(r"([*`|\\_])", r"\\\1", text)


def _literal_options(text: str) -> str:
    """``--reject-file`` as a literal: in running text Sphinx's smart quotes make ``--`` a dash."""
    return re.sub(r"(?<![\w`-])(--?[a-zA-Z][\w-]*(?:=[\w.-]+)?)", r"``\1``", text)


def _signature(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    *short, last = action.option_strings
    return ", ".join([*short, f"{last} {action.metavar or action.dest.upper()}"])


def _description(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    text = parser._get_formatter()._expand_help(action) if action.help else ""
    text = _literal_options(_escape(text))
    if action.choices:
        text += " One of " + ", ".join(f"``{c}``" for c in action.choices) + "."
    if action.required:
        text += " Required."
    return text.strip()


def _usage(parser: argparse.ArgumentParser) -> list[str]:
    usage = parser.format_usage().strip()
    return ["::", ""] + ["   " + line for line in usage.splitlines()] + [""]


def rst_lines(parser: argparse.ArgumentParser | None = None) -> list[str]:
    """The reference as reStructuredText lines (also what tests/test_docs.py checks)."""
    parser = parser or command_parser()
    lines: list[str] = []
    for name, (sub, summary) in subcommands(parser).items():
        title = f"portadb {name}"
        lines += [title, "-" * len(title), "", _escape(summary), ""]
        lines += _usage(sub)
        lines += [f".. program:: {PROGRAM} {name}", ""]
        for action in options(sub, django=False):
            lines += [f".. option:: {_signature(action)}", "", "   " + _description(sub, action), ""]
    django = [a for a in options(parser) if set(a.option_strings) & DJANGO_OPTIONS]
    if django:
        lines += ["Django's options", "-" * 16, "",
                  "Every management command takes these; give them before or after the subcommand"
                  " (``manage.py portadb copy --settings=mysite.settings_prod ...``).", ""]
        lines += [f".. program:: {PROGRAM}", ""]
        for action in django:
            lines += [f".. option:: {_signature(action)}", "", "   " + _description(parser, action), ""]
    return lines


def setup(app):
    # Sphinx is imported here only, so tests can use rst_lines() without it.
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class PortadbCommand(SphinxDirective):
        """Insert the whole ``manage.py portadb`` reference here."""

        has_content = False

        def run(self) -> list[nodes.Node]:
            node = nodes.section()
            node.document = self.state.document
            source = self.get_source_info()[0] or "<portadb-command>"
            nested_parse_with_titles(self.state, StringList(rst_lines(), source=source), node)
            return node.children

    app.add_directive("portadb-command", PortadbCommand)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
