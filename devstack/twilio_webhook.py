"""Text or call a demo tenant as Twilio would post it to the API: Twilio's form parameters for
an inbound SMS, an incoming call, a caller's speech (a `<Gather>` result) or a hang-up, signed
with the tenant's demo auth token (X-Twilio-Signature over the public URL and every parameter);
prints the API's answer (TwiML for voice, whose `<Redirect>`s it follows as Twilio does).

  python -m simptu.devstack.twilio_webhook sms --tenant zambet-dental-cluj \\
      --from +40722123456 "Bună ziua, aveți loc mâine?"
  python -m simptu.devstack.twilio_webhook call --tenant zambet-dental-cluj --from +40722123456
  python -m simptu.devstack.twilio_webhook say --call-sid CA... "Aș vrea o programare mâine"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from simptu.devstack.demo_channels import DemoTwilioAccount, demo_twilio_account
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins.twilio_payloads import (
    Params,
    call_status,
    gather_result,
    inbound_sms,
    incoming_call,
    signed,
)

SMS_PATH, VOICE_PATH = "/v1/webhooks/twilio/sms", "/v1/webhooks/twilio/voice"
VOICE_STATUS_PATH = "/v1/webhooks/twilio/voice/status"
# Twilio's default opt-out and opt-in keywords (Advanced Opt-Out): it stops sending by itself.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP", "OPTIN"}
MAX_REDIRECTS = 20


@dataclass
class Call:
    """What `call` remembers of a call so that `say` and `hangup` can go on with it."""

    tenant: str
    caller: str
    to: str
    action: str | None  # the public URL the last <Gather> posts the caller's speech to


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simptu.devstack.twilio_webhook",
        description="Post a signed webhook to the API as Twilio posts a customer's SMS or "
        "call: the tenant's number comes from examples/tenants/<tenant>.yaml, the auth token "
        "from the demo credentials (devstack/demo_channels.py). SMS replies go out to the "
        "Twilio stand-in: see --wait, its /_standin/calls and .devstack/run/twilio-api.log.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  %(prog)s sms --tenant zambet-dental-cluj --from +40722123456 --wait 60 "
        "'Bună ziua, aveți loc mâine?'\n"
        "  %(prog)s call --tenant zambet-dental-cluj --from +40722123456\n"
        "  %(prog)s say --call-sid CA0123... 'Aș vrea o programare mâine la zece'\n"
        "  %(prog)s hangup --call-sid CA0123...")
    parser.add_argument("--api", help="the API's base URL (default: the local stack's)")
    parser.add_argument("--public-base-url", help="the URL base Twilio signs, the API's "
                        "SIMPTU_PUBLIC_BASE_URL (default: --api)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the signed request instead of posting it")
    commands = parser.add_subparsers(dest="command", required=True)
    sms = commands.add_parser("sms", help="a customer's SMS to the tenant")
    sms.add_argument("text", help="the customer's message")
    call = commands.add_parser("call", help="a customer calls the tenant (the greeting TwiML)")
    for command in (sms, call):
        command.add_argument("--tenant", required=True, help="a demo tenant's slug "
                             "(metadata.name in examples/tenants/)")
        command.add_argument("--from", dest="sender", required=True,
                             help="the customer's number, E.164 (+40722123456)")
        command.add_argument("--to", help="the tenant's number called or texted (default: "
                             "its first spec.channels.twilio.phoneNumbers)")
    sms.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                     help="then wait up to SECONDS for the reply texted to --from and print it")
    say = commands.add_parser("say", help="the caller speaks: the Gather result posted to "
                              "the action URL of the call's last TwiML")
    say.add_argument("text", help="what the caller says (Twilio's SpeechResult)")
    say.add_argument("--confidence", type=float, default=0.92)
    hangup = commands.add_parser("hangup", help="the caller hangs up (call status completed)")
    for command in (say, hangup):
        command.add_argument("--call-sid", required=True, help="the CallSid `call` printed")
    return parser.parse_args(argv)


def calls_file(settings: DevstackSettings) -> Path:
    return settings.state_dir / "twilio-webhook-calls.json"


def load_calls(settings: DevstackSettings) -> dict[str, Call]:
    path = calls_file(settings)
    if not path.exists():
        return {}
    return {sid: Call(**call) for sid, call in json.loads(path.read_text()).items()}


def save_call(settings: DevstackSettings, sid: str, call: Call) -> None:
    calls = load_calls(settings) | {sid: call}
    path = calls_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: asdict(value) for key, value in calls.items()}, indent=1))


@dataclass(frozen=True)
class Target:
    """Where a webhook goes: the API's URL, and the public one Twilio signs."""

    api: str
    public: str

    def of(self, public_url: str) -> str:
        """The API URL of a public URL a TwiML answer named."""
        return self.api + public_url.removeprefix(self.public)


def post(target: Target, public_url: str, params: Params, token: str,
         dry_run: bool) -> httpx.Response | None:
    headers = signed(public_url, params, token)
    url = target.of(public_url)
    if dry_run:
        print(f"POST {url}")
        print("\n".join(f"{key}: {value}" for key, value in headers.items()))
        print(f"\n{httpx.QueryParams(params)}")
        return None
    answer = httpx.post(url, data=params, headers=headers, timeout=30)
    print(f"POST {url} -> {answer.status_code} {answer.reason_phrase}")
    if answer.text:
        print(answer.text)
    return answer


def tell_the_standin(settings: DevstackSettings, account: DemoTwilioAccount, customer: str,
                     text: str) -> None:
    """Twilio itself opts a number out on STOP (and in on START); the stand-in is told."""
    word = text.strip().upper()
    if word not in STOP_WORDS | START_WORDS:
        return
    standin = f"http://{settings.host}:{settings.twilio_api_port}/_standin/opt_out"
    try:
        httpx.post(standin, json={"account_sid": account.account_sid, "number": customer,
                                  "opted_out": word in STOP_WORDS}, timeout=5)
    except httpx.HTTPError as error:
        print(f"note: the Twilio stand-in was not told ({standin}: {error})", file=sys.stderr)


def sends_to(settings: DevstackSettings, account: DemoTwilioAccount, customer: str,
             ) -> list[dict[str, Any]]:
    standin = f"http://{settings.host}:{settings.twilio_api_port}/_standin/calls"
    answer = httpx.get(standin, params={"account_sid": account.account_sid, "to": customer},
                       timeout=5)
    calls: list[dict[str, Any]] = answer.json()["calls"]
    return calls


def wait_for_reply(settings: DevstackSettings, account: DemoTwilioAccount, customer: str,
                   before: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = sends_to(settings, account, customer)[before:]
        if new:
            for send in new:
                form, answer = dict(send["form"]), dict(send["answer"])
                print(f"reply to {customer} ({send['status']}, {answer.get('num_segments')} "
                      f"segment(s), {answer.get('sid') or answer.get('code')}):\n"
                      f"{form.get('Body')}")
            return 0
        time.sleep(0.5)
    print(f"no reply texted to {customer} within {seconds:g}s", file=sys.stderr)
    return 1


def send_sms(args: argparse.Namespace, settings: DevstackSettings, target: Target,
             account: DemoTwilioAccount) -> int:
    params = inbound_sms(account.account_sid, args.sender, args.to or account.phone_numbers[0],
                         args.text, messaging_service_sid=account.messaging_service_sid)
    before = 0 if args.dry_run or not args.wait else len(sends_to(settings, account, args.sender))
    answer = post(target, target.public + SMS_PATH, params, account.auth_token, args.dry_run)
    if answer is None:
        return 0
    if answer.is_success:
        tell_the_standin(settings, account, args.sender, args.text)
    if not answer.is_success or not args.wait:
        return 0 if answer.is_success else 1
    return wait_for_reply(settings, account, args.sender, before, args.wait)


def follow(target: Target, public_url: str, params: Params, call: Call, token: str,
           dry_run: bool) -> tuple[int, str | None]:
    """Post, then each `<Redirect>` the TwiML answers with, as Twilio does; (exit code, the
    last `<Gather>`'s action URL)."""
    action = None
    for _ in range(MAX_REDIRECTS):
        answer = post(target, public_url, params, token, dry_run)
        if answer is None or not answer.is_success:
            return (0 if answer is None else 1), call.action
        twiml = ET.fromstring(answer.text)  # noqa: S314 - our own local API's TwiML
        gather, redirect = twiml.find("Gather"), twiml.find("Redirect")
        if gather is not None:
            action = urljoin(public_url, gather.get("action") or public_url)
        if redirect is None or not (redirect.text or "").strip():
            return 0, action
        public_url = urljoin(public_url, (redirect.text or "").strip())
        params = {key: value for key, value in params.items()
                  if key not in ("SpeechResult", "Confidence")}
        print(f"-> <Redirect> {public_url}")
    print(f"error: more than {MAX_REDIRECTS} redirects", file=sys.stderr)
    return 1, action


def voice(args: argparse.Namespace, settings: DevstackSettings, target: Target) -> int:
    calls = load_calls(settings)
    if args.command == "call":
        account = demo_twilio_account(args.tenant)
        params = incoming_call(account.account_sid, args.sender,
                               args.to or account.phone_numbers[0])
        sid = params["CallSid"]
        call = Call(args.tenant, args.sender, params["To"], None)
        print(f"CallSid {sid}")
        url = target.public + VOICE_PATH
    elif args.call_sid not in calls:
        print(f"error: no call {args.call_sid} in {calls_file(settings)}: start one with "
              "`call`", file=sys.stderr)
        return 2
    else:
        sid, call = args.call_sid, calls[args.call_sid]
        account = demo_twilio_account(call.tenant)
        if args.command == "hangup":
            params = call_status(account.account_sid, sid, call.caller, call.to)
            answer = post(target, target.public + VOICE_STATUS_PATH, params,
                          account.auth_token, args.dry_run)
            return 0 if answer is None or answer.is_success else 1
        if call.action is None:
            print(f"error: call {sid}'s last TwiML gathers no speech", file=sys.stderr)
            return 1
        params = gather_result(account.account_sid, sid, call.caller, call.to, args.text,
                               confidence=args.confidence)
        url = call.action
    code, action = follow(target, url, params, call, account.auth_token, args.dry_run)
    if not args.dry_run:
        save_call(settings, sid, Call(call.tenant, call.caller, call.to, action))
    return code


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    settings = DevstackSettings()
    api = (args.api or f"http://{settings.host}:{settings.api_port}").rstrip("/")
    target = Target(api, (args.public_base_url or api).rstrip("/"))
    try:
        if args.command == "sms":
            return send_sms(args, settings, target, demo_twilio_account(args.tenant))
        return voice(args, settings, target)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except httpx.HTTPError as error:
        print(f"error: {type(error).__name__}: {error} (is `make up` running?)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
