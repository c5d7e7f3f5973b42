"""A customer's mail to the demo hotel is answered by the stack's agent in the same thread; a
reply in the thread continues the conversation, one whose headers a client rewrote opens a new
one, and automatic mail (an out-of-office, a bounce) is never answered."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import httpx

from simptu.devstack.envfile import StackEnv
from simptu.runtime.channels.email.loops import loop_reason
from tests.bounces import returned_mail
from tests.integration.channels.test_meta_conversations import staff_token
from tests.integration.email.conftest import Mail, new_customer, new_message_id, question
from tests.mailboxes import wait_for_mail


def ids(value: object) -> list[str]:
    return str(value or "").split()


async def ask(mail: Mail, customer: str, subject: str, body: str,
              **headers: str) -> tuple[str, EmailMessage]:
    message_id = await mail.send(question(customer, mail.address, subject, body, **headers))
    return message_id, await mail.reply_to(customer, message_id)


async def test_a_question_by_mail_is_answered_in_its_thread(mail: Mail) -> None:
    customer = new_customer()
    asked, reply = await ask(mail, customer, "Camere libere",
                             "Bună ziua, aveți camere libere weekendul viitor?")
    assert ids(reply["References"]) == [asked]
    assert reply["Subject"] == "Re: Camere libere"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert loop_reason(reply) == "auto-submitted"  # nothing answers it back
    assert email.utils.parseaddr(reply["From"])[1] == mail.address
    assert str(reply["Message-ID"]).endswith("@hotel-carpati.example>")
    assert reply["Content-Language"] == "ro"
    assert "asistentul virtual" in reply.get_content()
    asked_row = await mail.row(asked)
    sent_row = await mail.row(str(reply["Message-ID"]))
    assert (asked_row["outcome"], sent_row["direction"]) == ("posted", "out")
    assert asked_row["session_id"] == sent_row["session_id"]


async def test_an_english_question_is_signed_off_in_english(mail: Mail) -> None:
    _, reply = await ask(mail, new_customer(), "Rooms",
                         "Hello, do you have a double room available next weekend?")
    assert reply["Content-Language"] == "en"
    assert "virtual assistant" in reply.get_content()


async def test_a_reply_in_the_thread_continues_the_conversation(mail: Mail) -> None:
    customer = new_customer()
    first, answer = await ask(mail, customer, "Cameră", "Bună ziua, cât costă o cameră dublă?")
    answered = str(answer["Message-ID"])
    second, again = await ask(mail, customer, "Re: Cameră",
                              "Mulțumesc. Aveți și parcare?\n\nPe lun., 7 dec. 2026 la 10:00, "
                              f"Hotel <{mail.address}> a scris:\n> {answer.get_content()}",
                              In_Reply_To=answered, References=f"{first} {answered}")
    assert ids(again["References"]) == [first, answered, second]
    assert again["Subject"] == "Re: Cameră"
    rows = [await mail.row(message_id) for message_id in (first, answered, second)]
    assert len({row["session_id"] for row in rows}) == 1
    authors = [row["author"] for row in await mail.messages(rows[0]["session_id"])]
    assert authors.count("customer") == 2  # both mails, in one conversation


async def test_an_outlook_reply_with_rewritten_headers_opens_a_new_conversation(
        mail: Mail) -> None:
    customer = new_customer()
    first, _ = await ask(mail, customer, "Rezervare", "Bună ziua, aș dori o cameră pe 20 mai.")
    # Outlook answered from another client: its own thread ids, none the hotel knows.
    outlook_id = new_message_id("AM0PR10MB1234.eurprd10.prod.outlook.com")
    rewritten, answer = await ask(
        mail, customer, "RE: Rezervare", "Confirm, pentru două nopți.",
        In_Reply_To=outlook_id, References=outlook_id,
        Thread_Index="AdnGsd3kRZ8D0cFbQ2OeuQvL9xYwAA==", Thread_Topic="Rezervare")
    assert ids(answer["References"]) == [outlook_id, rewritten]
    assert answer["Subject"] == "RE: Rezervare"
    first_row, rewritten_row = await mail.row(first), await mail.row(rewritten)
    assert rewritten_row["outcome"] == "posted"
    assert rewritten_row["session_id"] != first_row["session_id"]


async def test_an_auto_reply_and_a_bounce_get_no_answer(mail: Mail) -> None:
    customer = new_customer()
    first, answer = await ask(mail, customer, "Mic dejun", "Bună ziua, micul dejun e inclus?")
    answered = str(answer["Message-ID"])
    away = await mail.send(question(
        customer, mail.address, "Automatic reply: Re: Mic dejun",
        "Sunt în concediu până luni.", Auto_Submitted="auto-replied", In_Reply_To=answered,
        References=f"{first} {answered}"))
    daemon = f"MAILER-DAEMON@mx-{new_customer().split('@')[0]}.test"
    bounce = await mail.send_bounce(returned_mail(daemon, mail.address, answered), mail.address)
    # Then a real question in the same thread: once it is answered, the two before it (read
    # first from the mailbox, posted first to the conversation had they been) were handled.
    last, last_answer = await ask(mail, customer, "Re: Mic dejun", "Și la ce oră?",
                                  In_Reply_To=answered, References=f"{first} {answered}")
    assert ids(last_answer["References"]) == [first, answered, last]
    away_row, bounce_row = await mail.row(away), await mail.row(bounce)
    assert (away_row["outcome"], away_row["session_id"]) == ("auto-submitted", None)
    assert (bounce_row["outcome"], bounce_row["session_id"]) == ("bounce", None)
    replies = [m for m in mail.mailbox(customer) if m["In-Reply-To"] in (away, bounce)]
    assert replies == []
    assert mail.mailbox(daemon) == []
    authors = [row["author"] for row in await mail.messages((await mail.row(first))["session_id"])]
    assert authors.count("customer") == 2  # the question and the last one, nothing else
    assert await mail.delivery_status(answered) == "failed"  # what the bounce returned


async def test_a_staff_members_message_is_mailed_in_the_thread_not_marked_automatic(
        mail: Mail, stack: StackEnv) -> None:
    customer = new_customer()
    asked, _ = await ask(mail, customer, "Transfer", "Bună ziua, aveți transfer de la gară?")
    session_id = (await mail.row(asked))["session_id"]
    token = await staff_token(stack, mail.slug)
    async with httpx.AsyncClient(base_url=stack["SIMPTU_API_URL"], timeout=20) as api:
        posted = await api.post(f"/v1/chat/sessions/{session_id}/messages",
                                json={"text": "Da, vă așteptăm la gară cu mașina hotelului."},
                                headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 201, posted.text
    staff = await wait_for_mail(stack, customer, lambda m: "mașina hotelului" in m.get_content())
    assert staff["In-Reply-To"] == asked
    assert staff["Auto-Submitted"] is None
    assert "asistentul virtual" not in staff.get_content()
