"""Every service of the local stack is real and reachable from Python with the product's clients."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess

import asyncpg
import httpx
import hvac
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from kubernetes import client as k8s

from simptu.devstack.envfile import StackEnv

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.smoke.simptu.io
spec:
  group: smoke.simptu.io
  scope: Namespaced
  names: {{plural: {plural}, singular: {singular}, kind: {kind}}}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {{type: integer, minimum: 1}}
"""


async def test_postgres_runs_sql_in_an_isolated_schema(stack: StackEnv, schema: str) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f"CREATE TABLE {schema}.notes (id int PRIMARY KEY, body text)")
        await conn.execute(f"INSERT INTO {schema}.notes VALUES (1, 'hello')")
        assert await conn.fetchval(f"SELECT body FROM {schema}.notes WHERE id = 1") == "hello"
        assert (await conn.fetchval("SHOW server_version")).startswith("15.")
    finally:
        await conn.close()


async def test_redis_sets_gets_and_publishes(stack: StackEnv, unique: str) -> None:
    client = aioredis.Redis.from_url(stack.redis_url)
    pubsub = client.pubsub()
    try:
        await client.set(f"{unique}:greeting", "salut", ex=60)
        assert await client.get(f"{unique}:greeting") == b"salut"
        await pubsub.subscribe(unique)
        await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        assert await client.publish(unique, "ping") == 1
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None
        assert message["data"] == b"ping"
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.delete(f"{unique}:greeting")
        await client.aclose()


async def test_kafka_creates_a_topic_and_round_trips_records(
    stack: StackEnv, topic_prefix: str, unique: str
) -> None:
    topic = f"{topic_prefix}smoke"
    admin = AIOKafkaAdminClient(**stack.kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        assert topic in await admin.list_topics()
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**stack.kafka.client_options(),
                                acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, f"event-{n}".encode(), key=b"session-1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, **stack.kafka.client_options(),
                                group_id=unique, auto_offset_reset="earliest")
    await consumer.start()
    received: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                received.append(record.value)
                if len(received) == 5:
                    break
    finally:
        await consumer.stop()
    # One key, one partition: the order is kept.
    assert received == [f"event-{n}".encode() for n in range(5)]


def test_crd_applied_with_kubectl_is_served_to_the_python_client(
    stack: StackEnv, kube: k8s.ApiClient, namespace: str, unique: str
) -> None:
    kubectl = [stack["SIMPTU_KUBECTL"], "--kubeconfig", stack.kubeconfig]
    plural, kind = f"{unique}s", unique.capitalize()
    crd_name = f"{plural}.smoke.simptu.io"
    manifest = CRD.format(plural=plural, singular=unique, kind=kind)
    subprocess.run([*kubectl, "apply", "-f", "-"], input=manifest, text=True, check=True,
                   capture_output=True)
    try:
        subprocess.run([*kubectl, "wait", "--for=condition=Established", "--timeout=30s",
                        f"crd/{crd_name}"], check=True, capture_output=True)
        crd = k8s.ApiextensionsV1Api(kube).read_custom_resource_definition(crd_name)
        assert crd.spec.names.kind == kind
        objects = k8s.CustomObjectsApi(kube)
        body = {"apiVersion": "smoke.simptu.io/v1", "kind": kind,
                "metadata": {"name": "one"}, "spec": {"size": 3}}
        objects.create_namespaced_custom_object("smoke.simptu.io", "v1", namespace, plural, body)
        stored = objects.get_namespaced_custom_object(
            "smoke.simptu.io", "v1", namespace, plural, "one")
        assert isinstance(stored, dict)
        assert stored["spec"] == {"size": 3}
        # The schema is enforced by the real API server.
        bad = {**body, "metadata": {"name": "two"}, "spec": {"size": 0}}
        with pytest.raises(k8s.ApiException) as refused:
            objects.create_namespaced_custom_object(
                "smoke.simptu.io", "v1", namespace, plural, bad)
        assert refused.value.status == 422
    finally:
        subprocess.run([*kubectl, "delete", "crd", crd_name, "--wait=false"],
                       check=True, capture_output=True)


def test_openbao_transit_encrypts_and_decrypts(stack: StackEnv, unique: str) -> None:
    bao = hvac.Client(url=stack["BAO_ADDR"], token=stack["BAO_TOKEN"])
    bao.secrets.transit.create_key(name=unique)
    try:
        plaintext = base64.b64encode(b"Maria Popescu, +40 712 345 678").decode()
        sealed = bao.secrets.transit.encrypt_data(name=unique, plaintext=plaintext)
        ciphertext = sealed["data"]["ciphertext"]
        assert ciphertext.startswith("vault:v1:")
        assert plaintext not in ciphertext
        opened = bao.secrets.transit.decrypt_data(name=unique, ciphertext=ciphertext)
        assert opened["data"]["plaintext"] == plaintext
    finally:
        bao.secrets.transit.update_key_configuration(name=unique, deletion_allowed=True)
        bao.secrets.transit.delete_key(name=unique)


async def test_keycloak_realm_serves_discovery_and_issues_tokens(
    stack: StackEnv, keycloak_admin: httpx.AsyncClient, realm: str
) -> None:
    base = stack["SIMPTU_KEYCLOAK_URL"]
    client = {"clientId": "smoke-web", "publicClient": True, "directAccessGrantsEnabled": True}
    user = {"username": "ana", "enabled": True, "email": f"ana@{realm}.test",
            "emailVerified": True, "firstName": "Ana", "lastName": "Pop",
            "credentials": [{"type": "password", "value": "demo", "temporary": False}]}
    for path, body in (("clients", client), ("users", user)):
        created = await keycloak_admin.post(f"/admin/realms/{realm}/{path}", json=body)
        assert created.status_code == 201, created.text

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        discovery = (await http.get(f"/realms/{realm}/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == f"{base}/realms/{realm}"
        issued = await http.post(discovery["token_endpoint"], data={
            "grant_type": "password", "client_id": "smoke-web", "username": "ana",
            "password": "demo", "scope": "openid"})
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        assert _segment(token, 1)["iss"] == discovery["issuer"]
        userinfo = await http.get(discovery["userinfo_endpoint"],
                                  headers={"Authorization": f"Bearer {token}"})
        assert userinfo.json()["preferred_username"] == "ana"
        keys = (await http.get(discovery["jwks_uri"])).json()["keys"]
        assert _segment(token, 0)["kid"] in {key["kid"] for key in keys}


def _segment(token: str, index: int) -> dict[str, object]:
    """One decoded part of a JWT: 0 is the header, 1 the claims."""
    part = token.split(".")[index]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))
