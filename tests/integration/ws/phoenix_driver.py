"""The stock `phoenix` npm client under Node, driven line by line from a test: the packages are
installed once from the npm registry into ~/.cache/simptu/node-phoenix-<version>-ws-<version>
(outside the checkout), and `js/driver.mjs` turns JSON commands into phoenix.js calls and what
the client sees into JSON lines."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

JS = Path(__file__).resolve().parent / "js"
WAIT = 30.0  # seconds to wait for something the client should see; a failure, not a timing


def node_client_dir() -> Path:
    """The cache folder with phoenix and ws installed (`npm ci` of js/package-lock.json)."""
    versions = json.loads((JS / "package.json").read_text())["dependencies"]
    cache = Path(os.environ.get("SIMPTU_TOOLS_CACHE", Path.home() / ".cache" / "simptu"))
    folder = cache / f"node-phoenix-{versions['phoenix']}-ws-{versions['ws']}"
    if not (folder / "node_modules" / "phoenix" / "package.json").exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(JS / name, partial / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=partial, check=True, capture_output=True, timeout=300)
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    # The driver runs from beside its node_modules (ES modules resolve from their own folder).
    shutil.copy(JS / "driver.mjs", folder / "driver.mjs")
    return folder


class PhoenixDriver:
    """One Node process with any number of phoenix.js sockets; `seen` keeps every line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[dict[str, Any]] = []
        self._matched: set[int] = set()
        self._pushes = 0

    @classmethod
    async def start(cls, folder: Path) -> PhoenixDriver:
        process = await asyncio.create_subprocess_exec(
            "node", "driver.mjs", cwd=folder, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        driver = cls(process)
        await driver.expect(lambda line: line["type"] == "ready")
        return driver

    async def command(self, op: str, **arguments: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **arguments}).encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first line, not matched before, that `wanted` accepts."""
        async with asyncio.timeout(WAIT):
            while True:
                for index, line in enumerate(self.seen):
                    if index not in self._matched and wanted(line):
                        self._matched.add(index)
                        return line
                await self._next_line()

    async def _next_line(self) -> None:
        assert self.process.stdout is not None
        raw = await self.process.stdout.readline()
        if not raw:
            raise RuntimeError(f"the Node driver ended; it printed: {self.seen}")
        self.seen.append(json.loads(raw))

    def events(self, socket: str, event: str) -> list[dict[str, Any]]:
        return [line["payload"] for line in self.seen
                if line["type"] == "event" and line["socket"] == socket
                and line["event"] == event]

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    # The phoenix.js calls a test makes, named as a page would make them.
    async def connect(self, socket: str, url: str, token: str, **options: Any) -> None:
        await self.command("connect", socket=socket, url=url, token=token, **options)
        await self.expect(lambda line: line["type"] == "open" and line["socket"] == socket)

    async def join(self, socket: str, topic: str, *, resume: bool = False) -> dict[str, Any]:
        await self.command("join", socket=socket, topic=topic, resume=resume)
        return await self.expect(lambda line: line["type"] == "join"
                                 and line["socket"] == socket and line["topic"] == topic)

    async def push(self, socket: str, topic: str, event: str,
                   payload: dict[str, Any]) -> dict[str, Any]:
        self._pushes += 1
        tag = f"{socket}:{self._pushes}:{event}"
        await self.command("push", socket=socket, topic=topic, event=event, payload=payload,
                           tag=tag)
        return await self.expect(lambda line: line["type"] == "reply" and line["tag"] == tag)

    async def event(self, socket: str, event: str,
                    where: Callable[[dict[str, Any]], bool] = lambda _: True) -> dict[str, Any]:
        line = await self.expect(lambda line: line["type"] == "event"
                                 and line["socket"] == socket and line["event"] == event
                                 and where(line["payload"]))
        return dict(line["payload"])

    async def presence(self, socket: str, topic: str,
                       where: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        line = await self.expect(lambda line: line["type"] == "presence"
                                 and line["socket"] == socket and line["topic"] == topic
                                 and where(line["present"]))
        return list(line["present"])
