"""The README's table of every setting, made from the settings models themselves: the shared
ones (`CoreSettings`) and each component's own, with the variable, the default and the comment
written above the field. `python -m simptu.devstack.settings_table --write` rewrites the table
in README.md; a test fails while it is out of date.

Every model reads the environment with the prefix `SIMPTU_`: shared settings and the systems
a component talks to are `SIMPTU_<NAME>`, a component's own `SIMPTU_<COMPONENT>_<NAME>`."""

from __future__ import annotations

import argparse
import inspect
import io
import re
import tokenize
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from simptu.devstack.settings import REPO_ROOT
from simptu.operator.settings import OperatorSettings
from simptu.runtime.agent.settings import AgentSettings
from simptu.runtime.api.settings import ApiSettings
from simptu.runtime.channels.settings import ChannelSettings
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.ws.settings import WsSettings

# Which process reads each model; a model's fields inherited from CoreSettings are listed once.
COMPONENTS: tuple[tuple[str, type[BaseSettings]], ...] = (
    ("every process", CoreSettings), ("API", ApiSettings), ("WS hub", WsSettings),
    ("agent worker", AgentSettings), ("outbox relay", OutboxRelaySettings),
    ("operator", OperatorSettings), ("channel senders", ChannelSettings))
BEGIN = "<!-- settings table: python -m simptu.devstack.settings_table --write -->"
END = "<!-- end of settings table -->"
README = REPO_ROOT / "README.md"


def field_comments(model: type[BaseSettings]) -> dict[str, str]:
    """The `#` comment lines right above each field of the class. A comment above several
    fields (no blank line between them) speaks of each."""
    comments: dict[str, str] = {}
    block: list[str] = []  # the comment lines being read
    current = ""  # the comment of the fields that follow it
    line_start = True
    for token in tokenize.generate_tokens(io.StringIO(inspect.getsource(model)).readline):
        if token.type == tokenize.COMMENT and line_start:
            block.append(token.string.lstrip("#").strip())
        elif token.type == tokenize.NL and not token.line.strip():
            block, current = [], ""  # a blank line ends a group
        elif token.type == tokenize.NAME and line_start and token.start[1] == 4:
            if block:
                current, block = " ".join(block), []
            if current:
                comments[token.string] = current
        if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            line_start = True
        elif token.type != tokenize.COMMENT:
            line_start = False
    return comments


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if value is PydanticUndefined or value is None:
        return ""
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return f"`{value}`" if value != "" else ""


def variable(model: type[BaseSettings], name: str) -> str:
    prefix = str(model.model_config.get("env_prefix", ""))
    return (prefix + name).upper()


def rows() -> list[tuple[str, str, str, str]]:
    """(variable, read by, default, what) of every setting, the shared ones first; a setting
    that several components read is one row."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for component, model in COMPONENTS:
        comments: dict[str, str] = {}
        for klass in reversed(model.__mro__):
            if isinstance(klass, type) and issubclass(klass, BaseSettings) and (
                    klass is not BaseSettings):
                comments.update(field_comments(klass))
        for name, field in model.model_fields.items():
            if model is not CoreSettings and name in CoreSettings.model_fields:
                continue
            key = variable(model, name)
            what = field.description or comments.get(name, "")
            if key in found:  # read by another component too
                _, readers, default, said = found[key]
                found[key] = (key, f"{readers}, {component}", default, said or what)
            else:
                found[key] = (key, component, _default(field), what)
    return list(found.values())


def table() -> str:
    lines = ["| variable | read by | default | what |", "| --- | --- | --- | --- |"]
    lines += [f"| `{name}` | {component} | {default} | {what.replace('|', '/')} |"
              for name, component, default, what in rows()]
    return "\n".join(lines)


def with_table(readme: str) -> str:
    """The README with its settings table replaced by the current one."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise ValueError(f"README.md has no settings table between {BEGIN!r} and {END!r}")
    return pattern.sub(lambda _: f"{BEGIN}\n{table()}\n{END}", readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simptu.devstack.settings_table",
        description="Print the table of every SIMPTU_* setting, made from the settings models; "
        "--write puts it in README.md.")
    parser.add_argument("--write", action="store_true", help="rewrite README.md's table")
    args = parser.parse_args(argv)
    if args.write:
        Path(README).write_text(with_table(README.read_text()))
    else:
        print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
