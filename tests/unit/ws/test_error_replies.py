"""The hub's error reply to a client event it failed to handle: `unavailable` (retryable) while
Postgres, Redis or OpenBao cannot be reached, `internal-error` for any other failure."""

from __future__ import annotations

import asyncpg
import pytest
import redis.exceptions
from asyncpg.exceptions import (
    CannotConnectNowError,
    ConnectionDoesNotExistError,
    QueryCanceledError,
    TooManyConnectionsError,
    UniqueViolationError,
)

from simptu.runtime.core.crypto import KeyStoreUnavailable
from simptu.runtime.ws.socket import failure
from tests.ports import free_port


async def test_a_refused_postgres_connection_is_unavailable() -> None:
    with pytest.raises(ConnectionRefusedError) as refused:  # nothing listens there: a real refusal
        await asyncpg.connect(host="127.0.0.1", port=free_port(), user="nobody", timeout=5)
    assert failure(refused.value)["reason"] == "unavailable"


@pytest.mark.parametrize("error", [
    TimeoutError(),  # the pool had no free connection in time, or a command timed out
    ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    CannotConnectNowError("the database system is starting up"),
    TooManyConnectionsError("no more connections allowed (max_client_conn)"),
    QueryCanceledError("canceling statement due to statement timeout"),
    redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    KeyStoreUnavailable("transit decrypt failed 3 times"),
], ids=type)
def test_a_dependency_away_is_unavailable(error: Exception) -> None:
    assert failure(error) == {
        "reason": "unavailable",
        "detail": "a service the hub needs cannot be reached now; retry shortly"}


def _store() -> None:
    try:
        raise ConnectionResetError("reset by peer")
    except OSError as lost:
        raise RuntimeError("could not store the message") from lost


def test_an_error_raised_from_a_lost_connection_is_unavailable() -> None:
    with pytest.raises(RuntimeError) as raised:
        _store()
    assert failure(raised.value)["reason"] == "unavailable"


@pytest.mark.parametrize("error", [
    ValueError("a bug"), KeyError("missing"),
    UniqueViolationError("duplicate key value violates unique constraint"),
], ids=type)
def test_any_other_failure_is_an_internal_error(error: Exception) -> None:
    assert failure(error)["reason"] == "internal-error"
