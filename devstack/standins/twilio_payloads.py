"""What Twilio POSTs to a business's webhooks, built as Twilio sends it, and its signature.

One home for what the Twilio stand-in posts (message status callbacks), what `twilio_webhook`
posts for a newcomer and what tests post to the API: an inbound SMS, an incoming voice call, a
`<Gather input="speech">` result, a call's status, a message's status, all as form parameters
(`application/x-www-form-urlencoded`), and SMS segment counting (GSM-7 vs UCS-2). Contracts:
../shared/CHANNELS.md (Twilio section).

`signed` computes `X-Twilio-Signature` with the `twilio` library's own `RequestValidator`: over
the exact URL Twilio called (the public one, query string included) and every POST parameter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

Params = dict[str, str]

SIGNATURE_HEADER = "X-Twilio-Signature"
API_VERSION = "2010-04-01"
FORM = "application/x-www-form-urlencoded"

# The GSM 03.38 default alphabet, and its extension table (each an escape + one septet).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Characters a segment holds: one message alone, or each part of a concatenated one (the
# rest of the part is the concatenation header).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def new_sid(prefix: str) -> str:
    """A fresh Twilio sid: a two-letter prefix (SM message, CA call, MG service, AC account)
    and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def sign(url: str, params: Params, auth_token: str) -> str:
    """`X-Twilio-Signature`: base64 HMAC-SHA1(auth token, url + every name+value by name)."""
    signature: str = RequestValidator(auth_token).compute_signature(url, params)
    return signature


def signed(url: str, params: Params, auth_token: str) -> dict[str, str]:
    """The headers of one form POST to `url` as Twilio sends it."""
    return {"Content-Type": FORM, SIGNATURE_HEADER: sign(url, params, auth_token),
            "User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}


def parse_form(body: bytes) -> Params:
    """The parameters of a form-encoded body (what Twilio posts and its REST API takes),
    blank values kept: each one is part of the signature."""
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


# SMS segments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segments:
    encoding: Literal["GSM-7", "UCS-2"]
    count: int


def gsm7_septets(char: str) -> int | None:
    """Septets `char` takes in GSM-7 (2 for the extension table), None: not GSM-7."""
    if char in GSM7_BASIC:
        return 1
    return 2 if char in GSM7_EXTENSION else None


def sms_segments(body: str) -> Segments:
    """How many segments Twilio bills for `body`: GSM-7 when every character is in the GSM
    alphabet (160 alone, 153 a part), else UCS-2 (70 / 67 UTF-16 units). A part never splits
    an escape pair or a surrogate pair. Romanian ș ț ă â î are not GSM-7."""
    septets = [gsm7_septets(char) for char in body]
    if all(size is not None for size in septets):
        units = [size for size in septets if size is not None]
        return Segments("GSM-7", _parts(units, GSM7_SINGLE, GSM7_PART))
    utf16 = [2 if ord(char) > 0xFFFF else 1 for char in body]
    return Segments("UCS-2", _parts(utf16, UCS2_SINGLE, UCS2_PART))


def _parts(units: list[int], single: int, part: int) -> int:
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


# What Twilio posts --------------------------------------------------------------------------


def inbound_sms(account_sid: str, sender: str, to: str, body: str, *,
                messaging_service_sid: str | None = None, message_sid: str | None = None,
                media: list[tuple[str, str]] | None = None) -> Params:
    """A customer's SMS (or MMS with `media` [(url, content type)]) to the business's `to`."""
    sid = message_sid or new_sid("MM" if media else "SM")
    params: Params = {
        "ToCountry": "", "ToState": "", "SmsMessageSid": sid, "NumMedia": str(len(media or [])),
        "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
        "FromCity": "", "Body": body, "FromCountry": "", "To": to, "ToZip": "",
        "NumSegments": str(sms_segments(body).count), "MessageSid": sid,
        "AccountSid": account_sid, "From": sender, "ApiVersion": API_VERSION}
    if messaging_service_sid:
        params["MessagingServiceSid"] = messaging_service_sid
    for index, (url, content_type) in enumerate(media or []):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    return params


def call_params(account_sid: str, call_sid: str, caller: str, to: str,
                status: str) -> Params:
    """What every voice webhook of one inbound call carries."""
    return {"AccountSid": account_sid, "ApiVersion": API_VERSION, "CallSid": call_sid,
            "CallStatus": status, "Called": to, "Caller": caller, "Direction": "inbound",
            "From": caller, "To": to, "CallerCountry": "", "CalledCountry": ""}


def incoming_call(account_sid: str, caller: str, to: str, *,
                  call_sid: str | None = None) -> Params:
    """The first webhook of a call to the business's `to`: the caller is still ringing."""
    return call_params(account_sid, call_sid or new_sid("CA"), caller, to, "ringing")


def gather_result(account_sid: str, call_sid: str, caller: str, to: str, speech: str, *,
                  confidence: float = 0.92) -> Params:
    """What `<Gather input="speech">` posts to its action URL once the caller has spoken."""
    return {**call_params(account_sid, call_sid, caller, to, "in-progress"),
            "SpeechResult": speech, "Confidence": f"{confidence:.8f}".rstrip("0").rstrip("."),
            "Language": "ro-RO"}


def call_status(account_sid: str, call_sid: str, caller: str, to: str, *,
                status: str = "completed", duration: int = 42) -> Params:
    """The call's status callback (completed when the caller hung up)."""
    return {**call_params(account_sid, call_sid, caller, to, status),
            "CallDuration": str(duration), "Duration": str(max(1, (duration + 59) // 60))}


def message_status(account_sid: str, message_sid: str, status: str, sender: str, to: str, *,
                   error_code: int | None = None,
                   messaging_service_sid: str | None = None) -> Params:
    """A status callback of one of the business's messages: queued, sent, delivered,
    undelivered or failed (the last two with `ErrorCode`)."""
    params: Params = {"SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status,
                      "To": to, "MessageSid": message_sid, "AccountSid": account_sid,
                      "From": sender, "ApiVersion": API_VERSION}
    if messaging_service_sid:
        params["MessagingServiceSid"] = messaging_service_sid
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params
