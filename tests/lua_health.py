"""Runs an Argo CD health.lua on a resource the way Argo CD does, without Argo CD: the resource
(YAML, as Argo CD reads it through JSON) becomes the Lua global `obj`, and the table the script
returns is its health. Lua 5.1, the language of gopher-lua, which Argo CD embeds."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = "lua5.1"


@dataclass(frozen=True)
class Health:
    status: str
    message: str


def lua_string(text: str) -> str:
    """A Lua 5.1 string literal: printable ASCII as is, every other byte as a decimal escape."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\' or byte < 0x20 or byte >= 0x7F:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def lua_literal(value: Any) -> str:
    """`value` (as parsed from JSON or YAML) as a Lua table constructor; null becomes nil."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, dt.datetime | dt.date):  # YAML timestamps are strings in JSON
        return lua_string(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    if isinstance(value, dict):
        fields = (f"[{lua_string(str(key))}] = {lua_literal(item)}"
                  for key, item in value.items() if item is not None)
        return "{" + ", ".join(fields) + "}"
    raise TypeError(f"no Lua form for {type(value).__name__}")


def interpreter() -> str:
    found = shutil.which(LUA)
    if found is None:
        raise RuntimeError(f"{LUA} not found: `make tools` installs it (Debian package lua5.1)")
    return found


def run_health(script: Path, resource: dict[str, Any]) -> Health:
    """The health `script` gives `resource`."""
    program = (f"obj = {lua_literal(resource)}\n"
               f"local hs = dofile({lua_string(str(script))})\n"
               'io.write(tostring(hs.status), "\\0", hs.message or "")\n')
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(program)
        file.flush()
        result = subprocess.run([interpreter(), file.name], capture_output=True, timeout=30,
                                check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{script} failed: {result.stderr.decode(errors='replace')}")
    status, message = result.stdout.decode().split("\0", 1)
    return Health(status, message)
