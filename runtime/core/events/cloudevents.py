"""CloudEvents 1.0 in structured-mode JSON, with the `tenantid` extension every event carries."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simptu.runtime.core.tenancy import check_slug

# The Kafka `content-type` header of a structured-mode event (CloudEvents Kafka binding).
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# What a received event must name itself; the model fills them in only for new events.
REQUIRED_ON_THE_WIRE = ("specversion", "id", "source", "type", "tenantid")
# Reverse-DNS, at least three lowercase segments: `io.simptu.chat.message.received`.
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_-]*){2,}$")
# CloudEvents attribute names: lowercase letters and digits, at most 20 characters.
EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
# W3C Trace Context (CloudEvents distributed-tracing extension).
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class InvalidCloudEvent(ValueError):
    """Bytes that are not a valid Simptu CloudEvent; the message says what is wrong."""


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CloudEvent(BaseModel):
    """One event. `id` and `time` are filled in for new events; a re-sent event keeps its id."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=_new_id, min_length=1)
    source: str = Field(min_length=1)
    type: str
    tenantid: str
    subject: str | None = None
    time: AwareDatetime = Field(default_factory=_now)
    datacontenttype: str = "application/json"
    traceparent: str | None = None
    data: Any = None

    @field_validator("type")
    @classmethod
    def _type_is_reverse_dns(cls, value: str) -> str:
        if not EVENT_TYPE.fullmatch(value):
            raise ValueError(f"event type {value!r} must look like io.simptu.chat.message.received")
        return value

    @field_validator("tenantid")
    @classmethod
    def _tenantid_is_a_slug(cls, value: str) -> str:
        return check_slug(value)

    @field_validator("traceparent")
    @classmethod
    def _traceparent_is_w3c(cls, value: str | None) -> str | None:
        if value is not None and not TRACEPARENT.fullmatch(value):
            raise ValueError(f"traceparent {value!r} is not a W3C trace context")
        return value

    @model_validator(mode="after")
    def _extensions_are_named_and_scalar(self) -> CloudEvent:
        for name, value in (self.model_extra or {}).items():
            if not EXTENSION_NAME.fullmatch(name):
                raise ValueError(f"attribute {name!r} is not supported (extension names are "
                                 "1-20 lowercase letters or digits; data_base64 is not used)")
            if not isinstance(value, str | int | bool):
                raise ValueError(f"extension {name!r} must be a string, integer or boolean")
        return self

    def to_bytes(self) -> bytes:
        """The structured-mode JSON of this event."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        """Parse structured-mode JSON; anything else raises `InvalidCloudEvent`."""
        attributes = _json_object(raw)
        missing = [name for name in REQUIRED_ON_THE_WIRE if name not in attributes]
        if missing:
            raise InvalidCloudEvent(f"not a CloudEvent: missing {', '.join(missing)}")
        try:
            return cls.model_validate(attributes)
        except ValidationError as error:
            raise InvalidCloudEvent(f"not a valid CloudEvent: {_summary(error)}") from error


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidCloudEvent(f"not a CloudEvent: not UTF-8 JSON ({error})") from error
    if not isinstance(value, dict):
        raise InvalidCloudEvent("not a CloudEvent: structured mode needs a JSON object")
    return value


def _summary(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, item['loc'])) or 'event'}: {item['msg']}"
                     for item in error.errors())
