"""Tenant slugs and the names derived from them (DESIGN.md, "Tenancy and encryption").

One function per name, so the operator that creates a thing and the runtime that uses it
can never disagree on what it is called.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

SLUG_PATTERN = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
MAX_SLUG_LENGTH = 40


class InvalidSlug(ValueError):
    """A tenant slug that is not a DNS label of at most 40 characters."""


def check_slug(slug: str) -> str:
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidSlug(
            f"tenant slug {slug!r} must be a DNS label: lowercase letters, digits and dashes, "
            f"starting with a letter, at most {MAX_SLUG_LENGTH} characters")
    return slug


def slug_matches(slug: str, patterns: str) -> bool:
    """Whether `slug` matches one of `patterns`, shell patterns separated by commas (a
    process's SIMPTU_*_TENANTS and SIMPTU_*_SKIP_TENANTS settings)."""
    return any(fnmatch.fnmatchcase(slug, pattern.strip())
               for pattern in patterns.split(",") if pattern.strip())


@dataclass(frozen=True)
class TenantNames:
    """Every name the platform gives a tenant's resources."""

    slug: str

    def __post_init__(self) -> None:
        check_slug(self.slug)

    @property
    def schema(self) -> str:
        return "t_" + self.slug.replace("-", "_")

    @property
    def role(self) -> str:
        return self.schema

    @property
    def transit_key(self) -> str:
        return f"tenant-{self.slug}"

    @property
    def namespace(self) -> str:
        return f"tenant-{self.slug}"

    def topic(self, stream: str) -> str:
        """`simptu.<slug>.inbound|outbound|events`."""
        if stream not in ("inbound", "outbound", "events"):
            raise ValueError(f"unknown stream {stream!r}")
        return f"simptu.{self.slug}.{stream}"
