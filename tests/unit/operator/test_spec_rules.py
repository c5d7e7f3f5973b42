"""The Tenant fields the CRD schema cannot check, checked by the admission webhook and again by
the operator (spec_rules): each invalid value is refused with a message naming the field and
an example; the shipped examples and every real number, zone and region pass."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import yaml

from simptu.operator.spec_rules import aws_regions, problems, time_zones

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "tenants"

# (what is wrong, the spec, the field the message must name)
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("a zone on Mars", {"timezone": "Mars/Olympus_Mons"}, "spec.timezone"),
    ("a zone in the wrong case", {"timezone": "europe/bucharest"}, "Europe/Bucharest"),
    ("a city that is no zone", {"timezone": "Europe/Cluj"}, "spec.timezone"),
    ("no such country calling code",
     {"channels": {"twilio": {"phoneNumbers": ["+42207816195780"]}}},
     "spec.channels.twilio.phoneNumbers"),
    ("too short for Romania", {"channels": {"twilio": {"phoneNumbers": ["+4074010020"]}}},
     "spec.channels.twilio.phoneNumbers"),
    ("country code 999", {"channels": {"whatsapp": {"displayPhoneNumber": "+999123456789"}}},
     "spec.channels.whatsapp.displayPhoneNumber"),
    ("two dots in an address", {"channels": {"email": {"addresses": ["a..b@x.example"]}}},
     "spec.channels.email.addresses"),
    ("a numeric top-level domain", {"channels": {"email": {"addresses": ["a@x.123"]}}},
     "spec.channels.email.addresses"),
    ("the same address twice", {"channels": {"email": {"addresses": [
        "desk@x.example", "Desk@X.example"]}}}, "the same address"),
    ("a port above 65535", {"channels": {"web": {"allowedOrigins": [
        "https://x.example:70000"]}}}, "spec.channels.web.allowedOrigins"),
    ("a default port no browser sends", {"channels": {"web": {"allowedOrigins": [
        "https://x.example:443"]}}}, "default port"),
    ("a host label over 63 characters", {"channels": {"web": {"allowedOrigins": [
        f"https://{'a' * 64}.example"]}}}, "spec.channels.web.allowedOrigins"),
    ("an IPv4 address out of range", {"channels": {"web": {"allowedOrigins": [
        "http://999.1.1.1"]}}}, "spec.channels.web.allowedOrigins"),
    ("credentials in a URL", {"agent": {"model": {"provider": "openai", "endpoint":
                                                  "https://key:secret@llm.example/v1"}}},
     "spec.agent.model.endpoint"),
    ("port 0", {"agent": {"model": {"provider": "openai", "endpoint": "http://llm.example:0"}}},
     "spec.agent.model.endpoint"),
    ("no such AWS region", {"agent": {"model": {"provider": "bedrock",
                                                "region": "eu-nowhere-1"}}},
     "spec.agent.model.region"),
    ("another model from the local provider", {"agent": {"model": {"name": "gpt-4o"}}},
     "spec.agent.model.name"),
    ("memory in bytes", {"agent": {"resources": {"limits": {"memory": "512"}}}},
     "spec.agent.resources.limits.memory"),
    ("more than the namespace quota", {"agent": {"replicas": 10, "resources": {
        "requests": {"cpu": "1"}}}}, "spec.agent.resources.requests.cpu"),
    ("limits alone count as requests", {"agent": {"replicas": 5, "resources": {
        "limits": {"memory": "4Gi"}}}}, "spec.agent.resources.requests.memory"),
    ("an unknown password policy", {"auth": {"passwordPolicy": "length(12) and strong"}},
     "spec.auth.passwordPolicy"),
    ("a policy without its number", {"auth": {"passwordPolicy": "digits(two)"}},
     "spec.auth.passwordPolicy"),
    ("no such hash algorithm", {"auth": {"passwordPolicy": "hashAlgorithm(md5)"}},
     "spec.auth.passwordPolicy"),
    ("a token outliving its session", {"auth": {"accessTokenLifespanSeconds": 3600,
                                                "ssoSessionIdleTimeoutSeconds": 1800}},
     "spec.auth.accessTokenLifespanSeconds"),
    ("a line break in the name", {"displayName": "Zâmbet\nDental"}, "spec.displayName"),
]


@pytest.mark.parametrize(("spec", "field"), [(spec, field) for _, spec, field in INVALID],
                         ids=[what for what, _, _ in INVALID])
def test_an_invalid_value_is_refused_naming_the_field_with_an_example(
    spec: dict[str, Any], field: str
) -> None:
    found = problems("zambet", {"displayName": "Zâmbet", "businessType": "dental-clinic",
                                **spec})
    assert len(found) == 1
    assert field in found[0]
    assert "e.g." in found[0] or "such as" in found[0] or "list it once" in found[0]


def test_keycloaks_own_realm_name_is_no_slug() -> None:
    assert "metadata.name" in problems("master", {})[0]


def test_the_shipped_examples_have_no_problem() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for tenant in yaml.safe_load_all(path.read_text()):
            if tenant and tenant.get("kind") == "Tenant":
                assert problems(tenant["metadata"]["name"], tenant["spec"]) == [], path.name


def test_every_iana_zone_and_aws_region_is_accepted() -> None:
    assert {"Europe/Bucharest", "UTC", "America/Argentina/Buenos_Aires"} <= time_zones()
    for zone in time_zones():
        assert problems("x", {"timezone": zone}) == []
    for region in aws_regions():
        assert problems("x", {"agent": {"model": {"provider": "bedrock",
                                                  "region": region}}}) == []


def valid_number(rng: random.Random) -> str:
    """A real number of a random country: its numbering plan's example, other digits at the end
    (random digits after a random "+" make numbers like +42207816195780: no such country)."""
    regions = sorted(region for region in phonenumbers.SUPPORTED_REGIONS
                     if phonenumbers.example_number(region) is not None)
    example = phonenumbers.example_number(rng.choice(regions))
    assert example is not None
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for _ in range(20):
        candidate = number[:-2] + f"{rng.randrange(100):02d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    return number


def test_real_phone_numbers_of_every_country_are_accepted() -> None:
    rng = random.Random(23)  # noqa: S311 - test data, not secrets
    numbers = [valid_number(rng) for _ in range(300)]
    assert problems("x", {"channels": {"twilio": {"phoneNumbers": numbers}}}) == []


def test_refusals_are_listed_together() -> None:
    found = problems("x", {"timezone": "Mars/Olympus_Mons",
                           "channels": {"twilio": {"phoneNumbers": ["+42207816195780"]}}})
    assert [problem.split(":")[0] for problem in found] == [
        "spec.timezone", "spec.channels.twilio.phoneNumbers"]
