"""A hung Kafka: the fault platform's private broker (tests/faults/data_services.py) stopped
with SIGSTOP after a reply's first delta reached a client, longer than a producer waits for an
acknowledgement (10 s), then continued with SIGCONT. Nothing refuses the connection: every
request just waits. The timeouts must release whoever waits, readiness must say so, and
nothing may be lost or shown twice once the broker continues (a publish that timed out may
still have been written: it is sent again with its event id, which consumers drop)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from .load import Load
from .runtimes import PrivatePlatform
from .scenarios import Outcome, _first_answer_after, resent_parts, until_ready_is

PAUSE = 15.0  # longer than a publish's timeout (SIMPTU_OUTBOX_PUBLISH_TIMEOUT, 10 s)
NEED_KAFKA = ["ws", "agent"]  # whose /readyz checks Kafka


async def kafka_paused(platform: PrivatePlatform, load: Load) -> Outcome:
    kafka = platform["kafka"]
    assert kafka.process is not None
    await load.round()
    batch = await load.post()
    await load.accepted(batch)
    await load.first_delta(batch)
    paused = time.monotonic()
    os.killpg(kafka.process.pid, signal.SIGSTOP)
    try:
        await until_ready_is(platform, NEED_KAFKA, 503)
        during = await load.post()
        await load.attempt(during)  # once while it hangs (refused ones are pushed again)
        await asyncio.sleep(max(0.0, paused + PAUSE - time.monotonic()))
    finally:
        os.killpg(kafka.process.pid, signal.SIGCONT)
    continued = time.monotonic()
    await until_ready_is(platform, NEED_KAFKA, 200)
    ready = time.monotonic() - continued
    await load.accepted(during)
    await load.answered(batch)
    await load.answered(during)
    after = await load.round()
    return Outcome(f"kafka paused (SIGSTOP) {PAUSE:.0f} s mid-reply", await load.check(), ready,
                   _first_answer_after([batch, during, after], continued),
                   await resent_parts(platform))
