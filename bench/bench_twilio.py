"""Twilio's webhooks (SMS and calls) against the running local stack; prints markdown tables.

    .venv/bin/python bench/bench_twilio.py [--requests N] [--concurrency 1 16] [--calls C]

Posts what Twilio posts, form-encoded and signed with X-Twilio-Signature over the public URL
(the stack's SIMPTU_API_URL) with the demo clinic zambet-dental-cluj's auth token, to the API
`make up` runs (one process), to the clinic's number +40364100200, and measures:

1. calls one at a time, each a new call from a customer's number: the incoming call → its
   greeting (TwiML with a `<Gather input="speech">`), and the caller's words ("Cât costă o
   consultație?", a `SpeechResult` posted to the Gather's action URL) → the TwiML that speaks
   the agent's reply (local model), the `<Redirect>`s to /voice/wait followed as Twilio would
   and counted in that time. Goal: p99 < 2 s (Twilio itself waits 15 s). Each call is then
   hung up (its status callback), which closes its conversation.
2. SMS accept latency (`POST /v1/webhooks/twilio/sms` → the empty TwiML 200: signature checked,
   message stored sealed, events queued) and webhooks/s at each number in flight, each SMS from
   a customer of its own (+4075…) with a fresh MessageSid, with the API process's CPU time per
   webhook and how busy the machine was (/proc). Goal: p99 < 20 ms.

Every SMS is answered by the stack's agent and its reply texted by the channel senders through
the Twilio stand-in (which posts status callbacks back to the same API), so keep N moderate: the
run waits until every customer it texted as has had a reply at the stand-in, then removes its
conversations, the calls' too (messages, deliveries, outbox rows, agent checkpoints).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode, urljoin

import asyncpg
import httpx
import uvloop
from bench_meta import (  # scripts beside this one
    AcceptLevel,
    accept_levels,
    machine,
    ms,
    print_accepts,
)
from bench_pipeline import remove_sessions

from simptu.devstack.demo_channels import demo_twilio_secret
from simptu.devstack.envfile import StackEnv
from simptu.devstack.processes import ManagedProcess
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins.twilio_control import TwilioControl
from simptu.devstack.standins.twilio_payloads import (
    Params,
    call_params,
    call_status,
    gather_result,
    inbound_sms,
    incoming_call,
    signed,
)
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

TENANT, NUMBER = "zambet-dental-cluj", "+40364100200"
QUESTION = "Cât costă o consultație?"
SMS_PATH, VOICE_PATH = "/v1/webhooks/twilio/sms", "/v1/webhooks/twilio/voice"
WARM_UP = 10  # SMS posted before the first concurrency level, not counted
MAX_REDIRECTS = 10  # a turn still redirected after this many polls (≥ 50 s) fails the bench


@dataclass(frozen=True)
class Webhook:
    """One POST as Twilio sends it, encoded and signed before the clock starts."""

    url: str  # the public URL, which the signature covers
    body: bytes
    headers: dict[str, str]


class Twilio:
    """Twilio's side of the demo clinic's account: signs and posts its webhooks."""

    def __init__(self, http: httpx.AsyncClient, public: str) -> None:
        self.http, self.public = http, public.rstrip("/")
        secret = demo_twilio_secret(TENANT)
        self.account_sid, self.auth_token = secret["accountSid"], secret["authToken"]
        self._customers: set[str] = set()

    def new_customer(self) -> str:
        while (customer := f"+4075{secrets.randbelow(10**7):07d}") in self._customers:
            pass
        self._customers.add(customer)
        return customer

    def webhook(self, path: str, params: Params) -> Webhook:
        """`path` may be relative, as TwiML's action and Redirect URLs are."""
        url = urljoin(f"{self.public}/", path)
        return Webhook(url, urlencode(params).encode(), signed(url, params, self.auth_token))

    async def post(self, webhook: Webhook, *, status: int = 200) -> httpx.Response:
        answer = await self.http.post(webhook.url, content=webhook.body, headers=webhook.headers)
        if answer.status_code != status:
            raise RuntimeError(f"{webhook.url}: {answer.status_code} {answer.text}")
        return answer


def twiml(answer: httpx.Response) -> ET.Element:
    return ET.fromstring(answer.text)  # noqa: S314 - our own API's TwiML


# SMS ---------------------------------------------------------------------------------------


class Texts:
    """Customers' SMS to the clinic's number, each from a new customer with a new MessageSid."""

    def __init__(self, twilio: Twilio) -> None:
        self.twilio = twilio
        self.customers: list[str] = []
        self.message_sids: list[str] = []

    def new(self) -> Webhook:
        customer = self.twilio.new_customer()
        params = inbound_sms(self.twilio.account_sid, customer, NUMBER, QUESTION)
        self.customers.append(customer)
        self.message_sids.append(params["MessageSid"])
        return self.twilio.webhook(SMS_PATH, params)


async def accepted(twilio: Twilio, webhook: Webhook) -> float:
    """Seconds to the API's 200; anything but an empty `<Response/>` fails."""
    started = time.perf_counter()
    answer = await twilio.post(webhook)
    elapsed = time.perf_counter() - started
    if len(document := twiml(answer)) or document.tag != "Response":
        raise RuntimeError(f"an SMS answered with {answer.text}")
    return elapsed


async def sms_run(texts: Texts, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """(webhooks/s, latencies in seconds) of `requests` SMS, `concurrency` in flight."""
    batch = [texts.new() for _ in range(requests)]
    slots = asyncio.Semaphore(concurrency)

    async def one(webhook: Webhook) -> float:
        async with slots:
            return await accepted(texts.twilio, webhook)

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(webhook) for webhook in batch))
    return requests / (time.perf_counter() - started), list(latencies)


async def replies_texted(standin: TwilioControl, texts: Texts, within: float,
                         ) -> tuple[int, dt.datetime]:
    """(customers texted back, the stand-in's time of the last of those sends) once every
    customer has had a reply, or when `within` seconds have passed."""
    waiting = set(texts.customers)
    deadline = time.monotonic() + within
    while True:
        sends = [call for call in await standin.calls(texts.twilio.account_sid)
                 if call["to"] in waiting and call["status"] == 201]
        answered = {call["to"] for call in sends}
        if answered == waiting or time.monotonic() > deadline:
            return len(answered), max((dt.datetime.fromisoformat(call["at"]) for call in sends),
                                      default=dt.datetime.now(dt.UTC))
        await asyncio.sleep(1)


# Calls -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    greeting: float  # seconds: the incoming call → its greeting
    reply: float  # seconds: the SpeechResult → the TwiML speaking the reply, redirects included
    redirects: int
    said: str  # the reply, as the TwiML says it


async def a_call(twilio: Twilio, call_sids: list[str]) -> Turn:
    """A new call: greeted, asked QUESTION, the reply spoken, then hung up."""
    caller = twilio.new_customer()
    call = incoming_call(twilio.account_sid, caller, NUMBER)
    call_sids.append(call["CallSid"])
    ring = twilio.webhook(VOICE_PATH, call)
    started = time.perf_counter()
    greeting = twiml(await twilio.post(ring))
    to_greeting = time.perf_counter() - started
    gather = greeting.find("Gather")
    if gather is None:
        raise RuntimeError(f"a greeting without <Gather>: {ET.tostring(greeting).decode()}")
    speech = twilio.webhook(gather.attrib["action"], gather_result(
        twilio.account_sid, call["CallSid"], caller, NUMBER, QUESTION))
    # What Twilio posts to a <Redirect>: the call's own parameters.
    in_progress = call_params(twilio.account_sid, call["CallSid"], caller, NUMBER,
                              "in-progress")
    started = time.perf_counter()
    document, redirects = twiml(await twilio.post(speech)), 0
    while (redirect := document.find("Redirect")) is not None and redirect.text:
        if (redirects := redirects + 1) > MAX_REDIRECTS:
            raise RuntimeError(f"call {call['CallSid']}: still waiting for the reply")
        document = twiml(await twilio.post(twilio.webhook(redirect.text, in_progress)))
    to_reply = time.perf_counter() - started
    listening = document.find("Gather")  # the reply is said within it, then it listens
    said = [say.text for say in listening.iter("Say") if say.text] if listening is not None else []
    if not said:
        raise RuntimeError(f"a turn answered with {ET.tostring(document).decode()}")
    await twilio.post(twilio.webhook(f"{VOICE_PATH}/status", call_status(
        twilio.account_sid, call["CallSid"], caller, NUMBER)), status=204)
    return Turn(to_greeting, to_reply, redirects, " ".join(said))


async def calls_run(twilio: Twilio, calls: int, call_sids: list[str]) -> list[Turn]:
    """`calls` calls one after another; a first one (models, keys and caches warming) is
    not counted."""
    return [await a_call(twilio, call_sids) for _ in range(calls + 1)][1:]


# The run -----------------------------------------------------------------------------------


async def remove(db: asyncpg.Pool, texts: Texts, call_sids: list[str]) -> None:
    """The conversations the benchmark's SMS and calls opened, found by their provider ids."""
    client_ids = ([f"sms:{sid}" for sid in texts.message_sids]
                  + [f"voice:{sid}:1" for sid in call_sids])
    async with TenantUnitOfWork(db, TenantNames(TENANT)) as conn:
        sessions = [row["session_id"] for row in await conn.fetch(
            "SELECT DISTINCT session_id FROM chat_messages WHERE client_msg_id = ANY($1::text[])",
            client_ids)]
    await remove_sessions(db, TENANT, sessions)


@dataclass(frozen=True)
class Drained:
    """From the first SMS of the accept runs to the last reply texted back."""

    posted: int
    answered: int
    first_post: dt.datetime
    last_post: dt.datetime
    last_reply: dt.datetime


def print_tables(turns: list[Turn], accepts: list[AcceptLevel], drained: Drained) -> None:
    print(f"\n{len(turns)} calls one at a time (a first one not counted), each a new caller "
          f"saying \"{QUESTION}\" once\n")
    print("| Twilio's POST → | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: |")
    for name, values in (
            ("incoming call → the greeting's TwiML", [turn.greeting for turn in turns]),
            ("SpeechResult → the TwiML speaking the agent's reply, redirects followed "
             "(goal p99 < 2,000; Twilio waits 15,000)", [turn.reply for turn in turns])):
        print(f"| {name} | {ms(values, 50)} | {ms(values, 99)} | {max(values) * 1000:.1f} |")
    redirected = [turn.redirects for turn in turns if turn.redirects]
    print(f"\n{len(redirected)} of {len(turns)} turns were answered with a filler and a "
          f"<Redirect> first ({sum(redirected)} redirects followed in all). The first reply "
          f"spoken: \"{turns[0].said}\"")
    print("\nSMS webhook accept on the stack's one API process (to the TwiML 200)\n")
    print_accepts(accepts, "")
    print("\n(The agent answers, the senders text through the Twilio stand-in and it posts two "
          "status callbacks per reply to the same API process while these run.)")
    after = (drained.last_reply - drained.last_post).total_seconds()
    print(f"\n{drained.posted} SMS posted in all (warm-ups included), each answered by the "
          f"stack's agent: {drained.answered} of {drained.posted} customers were texted back "
          f"through the stand-in, the last {after:.1f} s after the last post: "
          f"{drained.posted / (drained.last_reply - drained.first_post).total_seconds():.1f} "
          "SMS/s through the whole path.")


async def main(requests: int, levels: list[int], calls: int, drain_within: float) -> None:
    settings = DevstackSettings()
    stack = StackEnv.load(settings.env_file)
    print(f"machine: {machine()}", flush=True)
    api_pid = ManagedProcess("api", settings.state_dir / "run").pid()
    if api_pid is None:
        raise SystemExit("the stack's API is not running: make up")
    db = await asyncpg.create_pool(stack["SIMPTU_DATABASE_URL"], min_size=1, max_size=2)
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        twilio = Twilio(http, stack["SIMPTU_API_URL"])
        standin = TwilioControl(http, stack["SIMPTU_TWILIO_API_URL"])
        texts = Texts(twilio)
        call_sids: list[str] = []
        try:
            print(f"{calls} calls one at a time ...", flush=True)
            turns = await calls_run(twilio, calls, call_sids)
            first_post = dt.datetime.now(dt.UTC)
            await sms_run(texts, WARM_UP, min(levels))
            accepts = await accept_levels(api_pid, levels, requests, partial(sms_run, texts))
            last_post = dt.datetime.now(dt.UTC)
            print(f"waiting for the replies texted to {len(texts.customers)} customers ...",
                  flush=True)
            answered, last_reply = await replies_texted(standin, texts, drain_within)
            await asyncio.sleep(1)  # the stand-in's status callbacks for the last replies
        finally:
            await remove(db, texts, call_sids)
            await db.close()
    posted = len(texts.customers)
    print_tables(turns, accepts, Drained(posted, answered, first_post, last_post, last_reply))
    if answered < posted:
        raise SystemExit(f"{posted - answered} customers were not texted back within "
                         f"{drain_within:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=700,
                        help="SMS measured per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16],
                        help="SMS webhooks in flight, one level after another")
    parser.add_argument("--calls", type=int, default=20,
                        help="calls measured one at a time, to the agent's spoken reply")
    parser.add_argument("--drain-within", type=float, default=600.0,
                        help="seconds to wait for every SMS reply before removing the "
                        "conversations")
    args = parser.parse_args()
    uvloop.run(main(args.requests, args.concurrency, args.calls, args.drain_within))
