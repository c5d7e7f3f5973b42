"""WebSocket hub benchmark against the running local stack; prints markdown tables.

    .venv/bin/python bench/bench_ws.py [--connections N] [--fanout 100,500,1000] [--events M]

Starts one hub process of its own (`python -m simptu.runtime.ws` on port 4100, or --port; its
open-files limit raised to the hard limit) and measures:

- idle connections: N Phoenix sockets (default 50,000, or as many as the hard open-files
  limit lets one process hold), opened by several client processes from loopback source
  addresses 127.0.0.2, 127.0.0.3, ... (each address has its own ephemeral ports), each socket
  authenticated with a guest token and sending heartbeats as phoenix.js does; the hub's
  resident memory before and after, and per connection (goal: 50,000 within 2 GB);
- fan-out: N sockets joined to one conversation, M agent replies published to the tenant's
  outbound topic (sealed, as the agent does); latency from publishing to each socket's
  receipt, p50 and p99, for each N.

The clients speak the WebSocket protocol with asyncio directly (a few KiB per socket), so the
client side does not cap the count. The guest session is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import resource
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import uvloop

HUB_PORT = 4100
TENANT = "zambet-dental-cluj"
HEARTBEAT_EVERY = 30.0


# --- the client side: one worker process, many raw sockets --------------------------------

def masked_text(text: str) -> bytes:
    """A client's text frame (clients must mask)."""
    payload = text.encode()
    mask = secrets.token_bytes(4)
    length = len(payload)
    header = bytes([0x81, 0x80 | length]) if length < 126 else (
        bytes([0x81, 0x80 | 126]) + length.to_bytes(2, "big"))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawSocket(asyncio.Protocol):
    """A Phoenix socket reduced to what the benchmark needs: handshake, heartbeats, and the
    text of `reply` pushes with their time of arrival."""

    def __init__(self, request: bytes, opened: asyncio.Future[None],
                 arrivals: list[tuple[float, bytes]]) -> None:
        self.request = request
        self.opened = opened
        self.arrivals = arrivals
        self.buffer = bytearray()
        self.joined = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.opened.done():
            head, sep, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            if not sep:
                return
            if b" 101 " not in head.split(b"\r\n")[0]:
                self.opened.set_exception(RuntimeError(head.split(b"\r\n")[0].decode()))
                return
            self.opened.set_result(None)
            self.buffer = bytearray(rest)
        self._frames()

    def _frames(self) -> None:
        """Server frames are unmasked; only the text of `reply` pushes is kept."""
        position, buffer = 0, self.buffer
        while len(buffer) - position >= 2:
            opcode, length, start = buffer[position] & 0x0F, buffer[position + 1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[position + 2:position + 4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[position + 2:position + 10], "big"), 10
            end = position + start + length
            if len(buffer) < end:
                break
            payload = bytes(buffer[position + start:end])
            if opcode == 0x1 and b'"reply"' in payload:
                self.arrivals.append((time.time(), payload))
            elif opcode == 0x1 and payload.startswith(b'["1","1"') and b'"ok"' in payload:
                self.joined = True
            position = end
        del buffer[:position]

    def send(self, text: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_text(text))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or RuntimeError("closed during the handshake"))


async def worker(url_host: str, port: int, source: str, count: int, token: str,
                 topic: str | None, events: int) -> None:
    raise_open_files()
    loop = asyncio.get_running_loop()
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    request = (f"GET /socket/websocket?vsn=2.0.0&token={token} HTTP/1.1\r\nHost: {url_host}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    arrivals: list[tuple[float, bytes]] = []
    sockets: list[RawSocket] = []
    for start in range(0, count, 200):
        batch = []
        for _ in range(start, min(count, start + 200)):
            opened: asyncio.Future[None] = loop.create_future()
            _, protocol = await loop.create_connection(
                lambda o=opened: RawSocket(request, o, arrivals), url_host, port,
                local_addr=(source, 0))
            sockets.append(protocol)
            batch.append(opened)
        await asyncio.gather(*batch)
    if topic is not None:
        for index, socket in enumerate(sockets):
            socket.send(json.dumps(["1", "1", topic, "phx_join", {}]))
            if index % 100 == 99:
                await asyncio.sleep(0.05)  # let the hub keep up with the joins
    for _ in range(600):  # every join answered (at most two minutes) before events are sent
        if topic is None or all(socket.joined for socket in sockets):
            break
        await asyncio.sleep(0.2)
    print(json.dumps({"ready": len(sockets)}), flush=True)
    deadline = time.monotonic() + 3600
    next_beat = time.monotonic() + HEARTBEAT_EVERY
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if time.monotonic() > next_beat:
            for socket in sockets:
                socket.send('[null,"0","phoenix","heartbeat",{}]')
            next_beat += HEARTBEAT_EVERY
        if topic is not None and len(arrivals) >= events * sum(s.joined for s in sockets):
            break
    latencies = [arrived - float(json.loads(text)[4]["text"]) for arrived, text in arrivals]
    print(json.dumps({"latencies": latencies}), flush=True)


# --- the benchmark side ------------------------------------------------------------------

def hub_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def raise_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_hub(env: dict[str, str]) -> subprocess.Popen[bytes]:
    hub_env = {**env, "SIMPTU_WS_PORT": str(HUB_PORT), "SIMPTU_WS_HOST": "127.0.0.1",
               "SIMPTU_WS_LOG_LEVEL": "INFO"}
    log = (Path(env.get("SIMPTU_STATE_DIR", ".devstack")) / "run" / "bench-ws-hub.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "simptu.runtime.ws"], env=hub_env,
                            preexec_fn=raise_open_files, stdout=log, stderr=log)


async def wait_ready(hub: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(120):
            if hub.poll() is not None:  # e.g. the port is taken: another hub would answer
                raise RuntimeError(f"the benchmark's hub exited ({hub.returncode}); see "
                                   f"bench-ws-hub.log in the stack's run folder, or pick "
                                   f"another --port than {HUB_PORT}")
            try:
                if (await http.get(f"http://127.0.0.1:{HUB_PORT}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("the hub did not become ready")


async def spawn_workers(total: int, processes: int, token: str, topic: str | None,
                        events: int) -> list[asyncio.subprocess.Process]:
    workers = []
    for index in range(processes):
        count = total // processes + (1 if index < total % processes else 0)
        if count == 0:
            continue
        workers.append(await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--worker", "--port", str(HUB_PORT),
            "--source", f"127.0.0.{index + 2}",
            "--count", str(count), "--token", token, "--topic", topic or "",
            "--events", str(events), stdout=asyncio.subprocess.PIPE,
            limit=2**24))  # one line carries every latency a worker measured
    for process in workers:
        assert process.stdout is not None
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError("a client process ended before its sockets were open")
    return workers


async def stop(workers: list[asyncio.subprocess.Process]) -> None:
    for process in workers:
        if process.returncode is None:
            process.kill()
        await process.wait()


def metric(metrics: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in metrics.splitlines()
               if line.startswith(name))


async def settled(done: object = None) -> None:
    """Wait until `done(metrics)` holds, or by default until the hub has pushed nothing for a
    second (joins and presence diffs done)."""
    last = None
    async with httpx.AsyncClient() as http:
        while True:
            metrics = (await http.get(f"http://127.0.0.1:{HUB_PORT}/metrics")).text
            if done is not None and done(metrics):  # type: ignore[operator]
                return
            pushed = metric(metrics, "simptu_ws_pushes_total")
            if done is None and pushed == last:
                return
            last = pushed
            await asyncio.sleep(1)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def idle_connections(hub: subprocess.Popen[bytes], count: int, processes: int,
                           token: str) -> None:
    before = hub_rss_mib(hub.pid)
    started = time.perf_counter()
    workers = await spawn_workers(count, processes, token, None, 0)
    opened = time.perf_counter() - started
    await asyncio.sleep(2)
    after = hub_rss_mib(hub.pid)
    await stop(workers)
    await settled(lambda metrics: metric(metrics, "simptu_ws_connections") == 0)
    per = (after - before) * 1024 / count
    print("| idle connections | open in | hub RSS before | hub RSS after | per connection "
          "| 50,000 would take |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {count:,} | {opened:.1f} s | {before:.0f} MiB | {after:.0f} MiB | {per:.1f} KiB "
          f"| {before + per * 50_000 / 1024:,.0f} MiB |")


async def fan_out(sizes: list[int], events: int, processes: int, token: str, topic: str,
                  publish: object) -> None:
    print("\n| joined sockets | events | pushes | p50 | p99 | max |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        workers = await spawn_workers(size, processes, token, topic, events)
        await settled()  # every join answered and its presence diffs pushed
        for _ in range(events):
            await publish()  # type: ignore[operator]
            await asyncio.sleep(0.1)
        latencies: list[float] = []
        for process in workers:
            assert process.stdout is not None
            async with asyncio.timeout(120):
                line = await process.stdout.readline()
            latencies += json.loads(line)["latencies"]
        await stop(workers)
        print(f"| {size:,} | {events} | {len(latencies):,} | "
              f"{percentile(latencies, 0.5) * 1000:.1f} ms | "
              f"{percentile(latencies, 0.99) * 1000:.1f} ms | {max(latencies) * 1000:.1f} ms |")


async def main(arguments: argparse.Namespace) -> None:
    from simptu.devstack.envfile import StackEnv
    from simptu.devstack.settings import DevstackSettings
    from simptu.runtime.core.chat import conversation as contract
    from simptu.runtime.core.chat import store as chat_store
    from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
    from simptu.runtime.core.database import TenantUnitOfWork, create_pool
    from simptu.runtime.core.events import CloudEvent, EventProducer
    from simptu.runtime.core.guest_tokens import issue_guest_token
    from simptu.runtime.core.settings import CoreSettings
    from simptu.runtime.core.tenancy import TenantNames

    stack = StackEnv.load(DevstackSettings().env_file)
    env = {**os.environ, **stack.values}
    settings = CoreSettings.model_validate(
        {k.removeprefix("SIMPTU_").lower(): v for k, v in stack.values.items()}
        | {"bao_addr": stack["BAO_ADDR"], "bao_auth": "token", "bao_token": stack["BAO_TOKEN"]})
    tenant = TenantNames(TENANT)
    pool = await create_pool(settings)
    session_id = uuid.uuid4()
    async with TenantUnitOfWork(pool, tenant) as conn:
        await chat_store.create_session(conn, session_id, channel="web", locale="en", guest=True)
    token, _ = issue_guest_token(stack["SIMPTU_GUEST_TOKEN_SECRET"], TENANT, session_id,
                                 dt.timedelta(hours=2))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    count = min(arguments.connections, hard - 500)
    hub = start_hub(env)
    try:
        await wait_ready(hub)
        if count < arguments.connections:
            print(f"(the hard open-files limit here is {hard:,}: one process holds at most "
                  f"{count:,} sockets, so {count:,} are measured and 50,000 extrapolated)\n")
        await idle_connections(hub, count, arguments.processes, token)
        async with EventProducer(stack.kafka) as producer, \
                KeyRing(pool, OpenBaoTransit.from_settings(settings)) as keyring:
            cipher = keyring.cipher(tenant)

            async def publish() -> None:
                message_id = uuid.uuid4()
                sealed = await contract.seal_text(cipher, message_id, repr(time.time()))
                await producer.publish(tenant.topic("outbound"), CloudEvent(
                    source="/simptu/bench", type=contract.REPLY, tenantid=TENANT,
                    data={"session_id": str(session_id), "message_id": str(message_id),
                          "text_sealed": sealed}), str(session_id))

            await publish()  # the hub unwraps the tenant's key once, before anything is timed
            await asyncio.sleep(1)
            await fan_out(arguments.fanout, arguments.events, arguments.processes, token,
                          f"chat:{session_id}", publish)
    finally:
        hub.terminate()
        hub.wait(30)
        async with TenantUnitOfWork(pool, tenant) as conn:
            await conn.execute("DELETE FROM chat_sessions WHERE id = $1", session_id)
        await pool.close()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=50_000)
    parser.add_argument("--fanout", type=lambda s: [int(n) for n in s.split(",")],
                        default=[100, 500, 1000])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--port", type=int, default=HUB_PORT, help="the benchmark's own hub")
    # A client process (started by the benchmark itself).
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = parse()
    HUB_PORT = args.port
    if args.worker:
        uvloop.run(worker("127.0.0.1", HUB_PORT, args.source, args.count, args.token,
                          args.topic or None, args.events))
    else:
        uvloop.run(main(args))
