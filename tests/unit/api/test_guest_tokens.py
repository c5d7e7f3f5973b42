"""Guest tokens (runtime/core/guest_tokens.py): bound to one tenant and one session, signed by
the platform, refused when expired, altered or signed with another secret."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from simptu.runtime.core.guest_tokens import issue_guest_token, verify_guest_token
from simptu.runtime.core.oidc import InvalidToken, unverified_issuer

SECRET = "a-platform-secret-of-at-least-32-bytes!"
TTL = dt.timedelta(minutes=15)


def test_a_guest_token_names_its_tenant_and_session() -> None:
    session = uuid.uuid4()
    token, issued = issue_guest_token(SECRET, "gym-one", session, TTL)
    claims = verify_guest_token(SECRET, token)
    assert claims == issued
    assert (claims.tenant, claims.session_id) == ("gym-one", session)
    assert claims.may_join("gym-one", f"chat:{session}")
    assert not claims.may_join("gym-two", f"chat:{session}")
    assert not claims.may_join("gym-one", f"chat:{uuid.uuid4()}")
    assert unverified_issuer(token) == "simptu-platform"


def test_an_expired_guest_token_is_refused() -> None:
    token, _ = issue_guest_token(SECRET, "gym-one", uuid.uuid4(), -dt.timedelta(minutes=1))
    with pytest.raises(InvalidToken, match="expired"):
        verify_guest_token(SECRET, token)


def test_a_guest_token_of_another_secret_is_refused() -> None:
    token, _ = issue_guest_token(SECRET, "gym-one", uuid.uuid4(), TTL)
    with pytest.raises(InvalidToken):
        verify_guest_token(SECRET.upper(), token)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        issue_guest_token("short", "gym-one", uuid.uuid4(), TTL)


@pytest.mark.parametrize("token", ["", "a.b.c", "not a token"])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_guest_token(SECRET, token)
