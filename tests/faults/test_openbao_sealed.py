"""The readiness check of OpenBao (part of the agent's `/readyz`) says "sealed" while OpenBao is
sealed and "ok" once it is unsealed again, on an OpenBao of the test's own (a dev server: the
stack's must stay unsealed for everyone else)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto import OpenBaoTransit
from simptu.runtime.core.readiness import check
from tests.ports import free_port

START_TIMEOUT = 60.0


@dataclass
class DevBao:
    binary: str
    url: str
    token: str
    unseal_key: str

    def operator(self, *arguments: str) -> None:
        subprocess.run([self.binary, "operator", *arguments], check=True, capture_output=True,
                       timeout=30, env={**os.environ, "BAO_ADDR": self.url,
                                        "BAO_TOKEN": self.token})


def _dev_server(binary: str, port: int, token: str, log: Path) -> subprocess.Popen[bytes]:
    """An OpenBao dev server (in memory, unsealed, its unseal key printed to `log`)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
             f"-dev-root-token-id={token}"], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(log.parent)})


@pytest.fixture
async def dev_bao(stack: StackEnv) -> AsyncIterator[DevBao]:
    port, token = free_port(), uuid.uuid4().hex
    binary = stack["SIMPTU_BAO"]
    with tempfile.TemporaryDirectory(prefix="simptu-bao-") as folder:
        log = Path(folder) / "bao.log"
        server = _dev_server(binary, port, token, log)
        try:
            url = f"http://127.0.0.1:{port}"
            async with asyncio.timeout(START_TIMEOUT):  # until it answers and printed its key
                while not (found := re.search(r"Unseal Key: (\S+)", log.read_text())):
                    assert server.poll() is None, log.read_text()
                    await asyncio.sleep(0.1)
            yield DevBao(binary, url, token, found.group(1))
        finally:
            server.kill()
            server.wait()


async def test_openbao_check_fails_naming_the_seal_while_sealed(dev_bao: DevBao) -> None:
    keystore = OpenBaoTransit(dev_bao.url, dev_bao.token)
    assert await check(keystore.check_unsealed()) == "ok"

    dev_bao.operator("seal")
    result = await check(keystore.check_unsealed())
    assert result.startswith("failing"), result
    assert "sealed" in result, result

    dev_bao.operator("unseal", dev_bao.unseal_key)
    assert await check(keystore.check_unsealed()) == "ok"


async def test_openbao_check_fails_while_openbao_cannot_be_reached() -> None:
    keystore = OpenBaoTransit(f"http://127.0.0.1:{free_port()}", "no-token")
    assert (await check(keystore.check_unsealed())).startswith("failing")
