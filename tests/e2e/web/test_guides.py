"""The guides for frontend developers (docs/guides/) run as written against the running stack:
each guide's `sh` blocks in order in one bash (set -euo pipefail: a failing request fails the
guide), its `js` blocks under Node with the stock phoenix client (and `ws` as the WebSocket a
browser has), so no example goes stale."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.toolchain.tools import WEB_TEST_PACKAGES
from tests.integration.ws.phoenix_driver import node_client_dir

GUIDES = Path(__file__).resolve().parents[3] / "docs" / "guides"
BLOCK = re.compile(r"^```(sh|js)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# What a browser has and Node 20 does not: a global WebSocket.
BROWSER_LIKE = 'import WebSocket from "ws";\nglobalThis.WebSocket = WebSocket;\n'


def blocks(guide: Path, language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(guide.read_text()) if lang == language]


def run(argv: list[str], stack: StackEnv, cwd: Path | None = None) -> str:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home()), **stack.values}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env=env, cwd=cwd)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_seed_guide_is_written() -> None:
    assert sorted(p.stem for p in GUIDES.glob("*.md")) == sorted([
        "README", "chat-sessions", "websocket-streaming", "agent-sessions", "patient-booking",
        "invitations", "ratings", "access-codes"])
    for guide in GUIDES.glob("*.md"):
        if guide.stem != "README":
            assert blocks(guide, "sh") or blocks(guide, "js"), guide.name


@pytest.mark.parametrize("guide", sorted(p.stem for p in GUIDES.glob("*.md") if p.stem != "README"))
def test_the_guide_s_examples_run_against_the_stack(guide: str, stack: StackEnv) -> None:
    WEB_TEST_PACKAGES.ensure(DevstackSettings().tools_cache)
    path = GUIDES / f"{guide}.md"
    shell = blocks(path, "sh")
    if shell:
        run(["bash", "-c", "set -euo pipefail\n" + "\n".join(shell)], stack)
    for number, code in enumerate(blocks(path, "js")):
        folder = node_client_dir()
        script = folder / f"guide-{guide}-{number}.mjs"
        script.write_text(BROWSER_LIKE + code)
        run(["node", str(script)], stack, cwd=folder)
