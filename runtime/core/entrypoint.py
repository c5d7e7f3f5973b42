"""What every entrypoint (`python -m simptu.<component>`) answers to `--help`: its usage, what
it does, and the settings it reads from the environment (`SIMPTU_*`, from its settings model),
so an image's every component explains itself without a shell or a running stack.

    parser = entrypoint.parser("python -m simptu.runtime.api", "Serve the HTTP API.",
                               ApiSettings)  # add the component's own arguments
    parser.parse_args()  # --help prints usage and the settings, then exits 0
"""

from __future__ import annotations

import argparse
import textwrap

from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings


def settings_lines(model: type[BaseSettings]) -> list[str]:
    """`SIMPTU_NAME (default ...)` for each field of the model, required ones marked."""
    prefix = str(model.model_config.get("env_prefix") or "")
    lines = []
    for name, info in model.model_fields.items():
        variable = f"{prefix}{name}".upper()
        if info.is_required():
            lines.append(f"  {variable} (required)")
        elif info.default is PydanticUndefined or info.default_factory is not None:
            lines.append(f"  {variable}")
        else:
            shown = "<secret>" if "Secret" in type(info.default).__name__ else repr(info.default)
            lines.append(f"  {variable} (default {shown})")
    return lines


def parser(prog: str, description: str, model: type[BaseSettings]) -> argparse.ArgumentParser:
    """An argument parser whose `--help` lists the settings of `model` (one a line)."""
    epilog = "\n".join(["settings (environment variables, read once at start):",
                        *settings_lines(model)])
    return argparse.ArgumentParser(prog=prog, description=textwrap.fill(description, 79),
                                   epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
