"""Points in time taken from requests: any offset is accepted, but the instant must exist in UTC
(0001-01-01T00:00+00:05 does not), or the database would fail on it with a server error."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator


def _exists_in_utc(value: dt.datetime) -> dt.datetime:
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("this instant lies outside the years 1 to 9999 in UTC") from None
    return value


Instant = Annotated[dt.datetime, AfterValidator(_exists_in_utc)]
