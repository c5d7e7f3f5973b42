"""Post a customer's message to the API as Meta would: the documented webhook envelope of
WhatsApp, Messenger or Instagram for a demo tenant's channel, with a fresh message id, signed
with the channel's app secret (X-Hub-Signature-256); prints the API's answer and tells the
Graph API stand-in that the customer wrote (its 24-hour window).

  python -m simptu.devstack.meta_webhook whatsapp --tenant zambet-dental-cluj \\
      --from 40722123456 "Bună ziua, aveți loc mâine?"
"""

from __future__ import annotations

import argparse
import sys

import httpx

from simptu.devstack.demo_channels import demo_channel
from simptu.devstack.settings import DevstackSettings
from simptu.devstack.standins.meta_payloads import (
    Payload,
    instagram_message,
    messenger_message,
    signed_request,
    whatsapp_text,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simptu.devstack.meta_webhook",
        description="Post a signed webhook to the API as Meta posts a customer's message: "
        "the tenant's channel id comes from examples/tenants/<tenant>.yaml, the app secret "
        "from the demo credentials (devstack/demo_channels.py). The agent's reply goes to "
        "the Graph API stand-in: see its /_standin/calls and .devstack/run/meta-graph.log.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  %(prog)s whatsapp --tenant zambet-dental-cluj --from 40722123456 "
        "'Bună ziua, aveți loc mâine?'\n"
        "  %(prog)s messenger --tenant pulse-fitness-timisoara --from 6543210987654321 'Salut!'\n"
        "  %(prog)s instagram --tenant pulse-fitness-timisoara --from 6543210987654321 'Program?'")
    parser.add_argument("channel", choices=("whatsapp", "messenger", "instagram"))
    parser.add_argument("text", help="the customer's message")
    parser.add_argument("--tenant", required=True, help="a demo tenant's slug "
                        "(metadata.name in examples/tenants/)")
    parser.add_argument("--from", dest="sender", required=True,
                        help="the customer: a WhatsApp number in digits, country code first "
                        "(40722123456), or a Messenger/Instagram user id (PSID/IGSID)")
    parser.add_argument("--name", default="Client", help="the WhatsApp profile name")
    parser.add_argument("--url", help="where to post (default: the local API's "
                        "/v1/webhooks/meta)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the signed request instead of posting it")
    return parser.parse_args(argv)


def build(channel: str, object_id: str, sender: str, text: str, name: str,
          display_phone_number: str) -> Payload:
    if channel == "whatsapp":
        extra = {"display_phone_number": display_phone_number} if display_phone_number else {}
        return whatsapp_text(object_id, sender, text, name=name, **extra)
    if channel == "messenger":
        return messenger_message(object_id, sender, text)
    return instagram_message(object_id, sender, text)


def tell_the_standin(settings: DevstackSettings, object_id: str, customer: str) -> None:
    """Meta knows when a customer last wrote (the 24-hour window); the stand-in is told."""
    standin = f"http://{settings.host}:{settings.meta_graph_port}/_standin/inbound"
    try:
        httpx.post(standin, json={"object_id": object_id, "customer_id": customer}, timeout=5)
    except httpx.HTTPError as error:
        print(f"note: the Graph API stand-in was not told ({standin}: {error})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    settings = DevstackSettings()
    try:
        found = demo_channel(args.tenant, args.channel)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    payload = build(args.channel, found.object_id, args.sender, args.text, args.name,
                    found.display_phone_number)
    body, headers = signed_request(found.app_secret, payload)
    url = args.url or f"http://{settings.host}:{settings.api_port}/v1/webhooks/meta"
    if args.dry_run:
        print(f"POST {url}")
        print("\n".join(f"{key}: {value}" for key, value in headers.items()))
        print(f"\n{body.decode()}")
        return 0
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as error:
        print(f"error: POST {url}: {type(error).__name__}: {error} (is `make up` running?)",
              file=sys.stderr)
        return 1
    tell_the_standin(settings, found.object_id, args.sender)
    print(f"POST {url} -> {answer.status_code} {answer.reason_phrase}")
    if answer.text:
        print(answer.text)
    return 0 if answer.is_success else 1


if __name__ == "__main__":
    raise SystemExit(main())
