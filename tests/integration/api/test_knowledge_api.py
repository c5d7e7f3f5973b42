"""The knowledge base through HTTP with real tokens: staff and admins write the FAQ, every
caller of the tenant (guests too) reads and searches it, bad input changes nothing, and the
cached reads show a write at once and never another tenant's entries."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from simptu.runtime.core.database import TenantUnitOfWork
from tests.integration.api.conftest import ApiTenant, BookableSlots, UserHeaders
from tests.integration.api.test_behaviour import assert_problem
from tests.integration.api.test_chat_sessions import every_page

KNOWLEDGE = "/v1/knowledge"


def new_entry(locale: str = "en", **more: Any) -> dict[str, Any]:
    """An entry whose question no other test asks."""
    marker = uuid.uuid4().hex[:8]
    return {"locale": locale, "question": f"Question {marker}?",
            "answer": f"Answer {marker}."} | more


async def stored_entries(db: asyncpg.Pool, tenant: ApiTenant) -> list[tuple[Any, ...]]:
    async with TenantUnitOfWork(db, tenant.names) as conn:
        rows = await conn.fetch("SELECT id, locale, question, answer, updated_at "
                                "FROM knowledge_entries ORDER BY id")
    return [tuple(row) for row in rows]


async def guest_headers(api: httpx.AsyncClient, tenant: ApiTenant) -> dict[str, str]:
    answer = await api.post("/v1/chat/guest", json={"locale": "ro"},
                            headers={"Host": tenant.host, "Origin": tenant.origin})
    assert answer.status_code == 201, answer.text
    return {"Host": tenant.host, "Authorization": f"Bearer {answer.json()['token']}"}


async def listed(api: httpx.AsyncClient, headers: dict[str, str], **params: str) -> set[str]:
    page = await api.get(KNOWLEDGE, params={"limit": "100", **params}, headers=headers)
    assert page.status_code == 200, page.text
    return {item["id"] for item in page.json()["items"]}


async def test_staff_and_admins_write_the_faq_and_every_caller_reads_it(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin, staff = await as_user(tenant_a, "admin"), await as_user(tenant_a, "staff")
    readers = [await as_user(tenant_a, "customer"), await guest_headers(api, tenant_a)]
    spec = new_entry()
    for refused in readers:
        assert_problem(await api.post(KNOWLEDGE, json=spec, headers=refused), 403)
    created = await api.post(KNOWLEDGE, json=spec, headers=admin)
    assert created.status_code == 201, created.text
    entry = created.json()
    changed = await api.patch(f"{KNOWLEDGE}/{entry['id']}", json={"answer": "Changed."},
                              headers=staff)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["question"], changed.json()["answer"]) == (spec["question"],
                                                                       "Changed.")
    for reader in readers:
        assert (await api.get(f"{KNOWLEDGE}/{entry['id']}", headers=reader)).json()[
            "answer"] == "Changed."
        assert entry["id"] in await listed(api, reader, locale="en")
        assert_problem(await api.delete(f"{KNOWLEDGE}/{entry['id']}", headers=reader), 403)
    assert (await api.delete(f"{KNOWLEDGE}/{entry['id']}", headers=staff)).status_code == 204
    assert_problem(await api.get(f"{KNOWLEDGE}/{entry['id']}", headers=readers[0]), 404)
    assert_problem(await api.delete(f"{KNOWLEDGE}/{entry['id']}", headers=staff), 404)


async def test_posting_the_same_question_again_updates_its_answer(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin = await as_user(tenant_a, "admin")
    spec = new_entry("ro")
    first = (await api.post(KNOWLEDGE, json=spec, headers=admin)).json()
    again = await api.post(KNOWLEDGE, json=spec | {"answer": "Alt răspuns."}, headers=admin)
    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["answer"]) == (first["id"], "Alt răspuns.")


async def test_a_write_is_visible_at_once_in_the_cached_reads(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin, customer = await as_user(tenant_a, "admin"), await as_user(tenant_a, "customer")
    before = await listed(api, customer)
    entry = (await api.post(KNOWLEDGE, json=new_entry(), headers=admin)).json()
    assert await listed(api, customer) == before | {entry["id"]}
    path = f"{KNOWLEDGE}/{entry['id']}"
    assert (await api.get(path, headers=customer)).json()["answer"] == entry["answer"]
    await api.patch(path, json={"answer": "Updated."}, headers=admin)
    assert (await api.get(path, headers=customer)).json()["answer"] == "Updated."
    await api.delete(path, headers=admin)
    assert await listed(api, customer) == before
    assert_problem(await api.get(path, headers=customer), 404)


async def test_the_first_page_is_served_from_the_cache_until_a_write(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    admin, customer = await as_user(tenant_a, "admin"), await as_user(tenant_a, "customer")
    cached = await listed(api, customer)
    async with TenantUnitOfWork(db, tenant_a.names) as conn:
        behind_its_back = await conn.fetchval(
            "INSERT INTO knowledge_entries (locale, question, answer, embedding, "
            "embedding_model) VALUES ('en', $1, 'Written in SQL.', '{1}', 'none') RETURNING id",
            f"Question {uuid.uuid4().hex}?")
    assert await listed(api, customer) == cached
    written = (await api.post(KNOWLEDGE, json=new_entry(), headers=admin)).json()
    assert await listed(api, customer) == cached | {str(behind_its_back), written["id"]}


def hot_reads(outcome: str) -> float:
    return REGISTRY.get_sample_value("simptu_api_hot_reads_total",
                                     {"collection": "knowledge", "outcome": outcome}) or 0.0


async def test_hot_reads_are_counted_as_hits_and_misses(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin = await as_user(tenant_a, "admin")
    await api.post(KNOWLEDGE, json=new_entry(), headers=admin)
    hits, misses = hot_reads("hit"), hot_reads("miss")
    await listed(api, admin)
    await listed(api, admin)
    assert (hot_reads("hit"), hot_reads("miss")) == (hits + 1, misses + 1)


async def test_invalid_entries_are_refused_and_change_nothing(
        api: httpx.AsyncClient, db: asyncpg.Pool, tenant_a: ApiTenant,
        as_user: UserHeaders) -> None:
    admin = await as_user(tenant_a, "admin")
    entry = (await api.post(KNOWLEDGE, json=new_entry(), headers=admin)).json()
    other = (await api.post(KNOWLEDGE, json=new_entry(), headers=admin)).json()
    before = await stored_entries(db, tenant_a)
    for body in (new_entry("fr"), new_entry(question=""), new_entry(answer="x" * 4001),
                 new_entry(question="   "), new_entry(colour="blue"), {"locale": "en"}):
        assert_problem(await api.post(KNOWLEDGE, json=body, headers=admin), 422)
    path = f"{KNOWLEDGE}/{entry['id']}"
    for change in ({"locale": "de"}, {"answer": ""}, {"question": 7}):
        assert_problem(await api.patch(path, json=change, headers=admin), 422)
    duplicate = assert_problem(await api.patch(path, json={"question": other["question"]},
                                               headers=admin), 409)
    assert duplicate["type"] == "https://simptu.io/problems/duplicate-question"
    assert_problem(await api.patch(f"{KNOWLEDGE}/{uuid.uuid4()}", json={"answer": "x"},
                                   headers=admin), 404)
    assert await stored_entries(db, tenant_a) == before


async def test_pages_follow_the_cursor_in_the_order_entries_were_written(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin = await as_user(tenant_a, "admin")
    made = [(await api.post(KNOWLEDGE, json=new_entry("ro"), headers=admin)).json()["id"]
            for _ in range(5)]
    pages = [item["id"] for item in await every_page(api, KNOWLEDGE, admin, locale="ro")]
    assert len(pages) == len(set(pages))
    assert [entry for entry in pages if entry in made] == made
    assert_problem(await api.get(KNOWLEDGE, params={"cursor": "not-ours"}, headers=admin), 400)
    assert_problem(await api.get(KNOWLEDGE, params={"limit": "101"}, headers=admin), 422)


async def test_search_answers_romanian_and_english_questions(
        api: httpx.AsyncClient, tenant_a: ApiTenant, as_user: UserHeaders) -> None:
    admin = await as_user(tenant_a, "admin")
    guest = await guest_headers(api, tenant_a)
    for spec in ({"locale": "ro", "question": "Aveți loc pentru biciclete?",
                  "answer": "Da, suportul de biciclete este lângă intrare."},
                 {"locale": "en", "question": "Do you have a bicycle rack?",
                  "answer": "Yes, the bicycle rack is by the entrance."}):
        assert (await api.post(KNOWLEDGE, json=spec, headers=admin)).status_code == 201
    for query, locale, expected in (("unde las bicicleta", "ro", "Aveți loc pentru biciclete?"),
                                    ("Where can I leave my bike?", "en",
                                     "Do you have a bicycle rack?")):
        found = await api.get(f"{KNOWLEDGE}/search", params={"q": query, "locale": locale},
                              headers=guest)
        assert found.status_code == 200, found.text
        hits = found.json()["items"]
        assert [hit["question"] for hit in hits][:1] == [expected]
        assert hits[0]["locale"] == locale
        assert 0 < hits[0]["score"] <= 1
    for params in ({"q": ""}, {"q": "bike", "limit": "11"}, {"q": "bike", "locale": "fr"},
                   {"q": "bike\x00"}):
        assert_problem(await api.get(f"{KNOWLEDGE}/search", params=params, headers=guest), 422)


async def test_one_tenant_s_cached_reads_never_answer_another(
        api: httpx.AsyncClient, tenant_a: ApiTenant, tenant_b: ApiTenant,
        bookable: BookableSlots, as_user: UserHeaders) -> None:
    a_admin, b_admin = await as_user(tenant_a, "admin"), await as_user(tenant_b, "admin")
    a_entry = (await api.post(KNOWLEDGE, json=new_entry(), headers=a_admin)).json()
    a_services = (await api.get("/v1/services", headers=a_admin)).json()["items"]
    assert str(bookable.consultation) in {service["id"] for service in a_services}
    b_services = (await api.get("/v1/services", headers=b_admin)).json()["items"]
    assert not {s["id"] for s in a_services} & {s["id"] for s in b_services}
    assert a_entry["id"] not in await listed(api, b_admin)
    b_entry = (await api.post(KNOWLEDGE, json=new_entry(), headers=b_admin)).json()
    assert b_entry["id"] not in await listed(api, a_admin)
    assert a_entry["id"] not in await listed(api, b_admin)
    assert_problem(await api.get(f"{KNOWLEDGE}/{a_entry['id']}", headers=b_admin), 404)


@pytest.mark.parametrize("filtered", [False, True])
async def test_a_catalogue_write_is_visible_at_once_in_the_cached_lists(
        api: httpx.AsyncClient, tenant_a: ApiTenant, bookable: BookableSlots,
        as_user: UserHeaders, filtered: bool) -> None:
    admin, customer = await as_user(tenant_a, "admin"), await as_user(tenant_a, "customer")
    params = {"service_id": str(bookable.cleaning)} if filtered else {}

    async def resources() -> set[str]:
        answer = await api.get("/v1/resources", params=params, headers=customer)
        return {resource["id"] for resource in answer.json()["items"]}

    async def services() -> set[str]:
        answer = await api.get("/v1/services", headers=customer)
        return {service["id"] for service in answer.json()["items"]}

    before_resources, before_services = await resources(), await services()
    room = (await api.post("/v1/resources", headers=admin, json={
        "name": f"Room {uuid.uuid4().hex[:6]}", "kind": "room", "services": ["Cleaning"],
        "hours": [{"weekday": 2, "opens": "09:00", "closes": "10:00"}]})).json()
    service = (await api.post("/v1/services", headers=admin, json={
        "name": f"Polish {uuid.uuid4().hex[:6]}", "duration_minutes": 20, "price": "90.00",
        "currency": "RON"})).json()
    assert await resources() == before_resources | {room["id"]}
    assert await services() == before_services | {service["id"]}
    await api.delete(f"/v1/resources/{room['id']}", headers=admin)
    await api.delete(f"/v1/services/{service['id']}", headers=admin)
    assert (await resources(), await services()) == (before_resources, before_services)
