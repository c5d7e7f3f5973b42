"""Phone calls through Twilio: the caller speaks, Twilio's speech recognition (`<Gather
input="speech">`) posts what was said, each utterance is a customer message of the call's
conversation, and the agent's reply is spoken back with the next `<Gather>`. Twilio waits at
most 15 s for an answer: while the agent still thinks, a short filler and a `<Redirect>` poll
for the reply, so no caller ever hears an error. Silence ends the call politely; a hang-up
closes the conversation."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from simptu.runtime.channels.twilio.webhook import Caller, TwilioWebhooks
from simptu.runtime.core.channels.contacts import Contact, receive_message
from simptu.runtime.core.chat import store
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.registry import TenantRecord

BASE = "/v1/webhooks/twilio/voice"
MIN_CONFIDENCE = 0.4
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}
WORDS = {
    "ro": {"voice": "ro-RO", "hello": "Bună ziua, ați sunat la {name}. Cu ce vă pot ajuta?",
           "again": "Scuzați, nu v-am înțeles. Puteți repeta, vă rog?",
           "wait": "Un moment, vă rog.", "bye": "Vă mulțumim pentru apel. La revedere!",
           "callback": "Un coleg vă va suna înapoi cât de curând. La revedere!",
           "message": "Spuneți-ne, vă rog, mesajul dumneavoastră; un coleg vă va suna înapoi.",
           "noted": "Mulțumim, am notat mesajul. Un coleg vă va suna înapoi. La revedere!"},
    "en": {"voice": "en-US", "hello": "Hello, you have reached {name}. How can I help you?",
           "again": "Sorry, I did not catch that. Could you say it again, please?",
           "wait": "One moment, please.", "bye": "Thank you for calling. Goodbye!",
           "callback": "A colleague will call you back soon. Goodbye!",
           "message": "Please tell us your message; a colleague will call you back.",
           "noted": "Thank you, your message is noted. A colleague will call you back. "
                    "Goodbye!"},
}


def words(tenant: TenantRecord) -> dict[str, str]:
    return WORDS["ro" if tenant.locale.startswith("ro") else "en"]


def put_through(caller: Caller, reply: str) -> str:
    """The caller asked for a person: put through to the tenant's staff number, or, with
    none, their message taken for staff (who see the conversation and call back)."""
    spoken, answer = words(caller.tenant), VoiceResponse()
    answer.say(reply, language=spoken["voice"])
    staff = caller.account.credential("staffPhoneNumber")
    if staff:
        answer.dial(staff)
        return str(answer)
    gather = Gather(input="speech", action=f"{BASE}/message", method="POST",
                    language=spoken["voice"], speech_timeout="auto")
    gather.say(spoken["message"], language=spoken["voice"])
    answer.append(gather)
    answer.say(spoken["callback"], language=spoken["voice"])
    answer.hangup()
    return str(answer)


@dataclass(frozen=True)
class VoiceCalls:
    hooks: TwilioWebhooks
    # How long one webhook waits for the agent's reply before a filler and a redirect.
    reply_wait: float = 5.0

    def _listen(self, tenant: TenantRecord, say: str, turn: int) -> str:
        """`say`, then listen for the caller's next words (turn `turn`); silence ends it."""
        spoken = words(tenant)
        answer = VoiceResponse()
        gather = Gather(input="speech", action=f"{BASE}/turn?turn={turn}", method="POST",
                        language=spoken["voice"], speech_timeout="auto")
        gather.say(say, language=spoken["voice"])
        answer.append(gather)
        answer.say(spoken["bye"], language=spoken["voice"])
        answer.hangup()
        return str(answer)

    async def incoming(self, url: str, params: Mapping[str, str],
                       signature: str | None) -> str:
        caller = await self.hooks.check(url, params, signature, params.get("To", ""))
        return self._listen(caller.tenant, words(caller.tenant)["hello"].format(
            name=caller.tenant.display_name), 1)

    async def turn(self, url: str, params: Mapping[str, str], signature: str | None,
                   turn: int) -> str:
        """What the caller said in turn `turn`: posted, then the agent's reply spoken."""
        caller = await self.hooks.check(url, params, signature, params.get("To", ""))
        tenant = caller.tenant
        speech = params.get("SpeechResult", "").strip()
        if not speech or float(params.get("Confidence") or 0) < MIN_CONFIDENCE:
            return self._listen(tenant, words(tenant)["again"], turn)
        client_id = f"{params.get('CallSid', '')}:{turn}"
        received = await receive_message(
            self.hooks.conversations, tenant, Contact("voice", params.get("From", ""),
                                                      tenant.locale),
            client_id, speech[:self.hooks.conversations.max_text_chars],
            dt.datetime.now(dt.UTC))
        if received is not None:
            session_id, seq = received.session_id, received.posted.seq
        else:  # Twilio posted this turn again: answer it as the first time
            session_id, seq = await self._posted(tenant, f"voice:{client_id}")
        return await self._answer(caller, session_id, seq, turn)

    async def wait(self, url: str, params: Mapping[str, str], signature: str | None,
                   turn: int, session_id: uuid.UUID, after: int) -> str:
        """The redirect of a turn whose reply was not ready: wait for it again."""
        caller = await self.hooks.check(url, params, signature, params.get("To", ""))
        return await self._answer(caller, session_id, after, turn)

    async def _answer(self, caller: Caller, session_id: uuid.UUID, after: int,
                      turn: int) -> str:
        tenant = caller.tenant
        found = await self._reply_after(tenant, session_id, after)
        if found is None:
            spoken, answer = words(tenant), VoiceResponse()
            answer.say(spoken["wait"], language=spoken["voice"])
            answer.redirect(f"{BASE}/wait?" + urlencode(
                {"turn": turn, "session": str(session_id), "after": after}), method="POST")
            return str(answer)
        reply, status = found
        if status == "handed_off":  # the caller asked for a person
            return put_through(caller, reply)
        return self._listen(tenant, reply, turn + 1)

    async def message(self, url: str, params: Mapping[str, str],
                      signature: str | None) -> str:
        """The message a caller left for staff: kept in the call's conversation (with staff
        already, so the agent does not answer it), then goodbye."""
        caller = await self.hooks.check(url, params, signature, params.get("To", ""))
        tenant, speech = caller.tenant, params.get("SpeechResult", "").strip()
        if speech:
            await receive_message(
                self.hooks.conversations, tenant,
                Contact("voice", params.get("From", ""), tenant.locale),
                f"{params.get('CallSid', '')}:message",
                speech[:self.hooks.conversations.max_text_chars], dt.datetime.now(dt.UTC))
        spoken, answer = words(tenant), VoiceResponse()
        answer.say(spoken["noted"] if speech else spoken["callback"], language=spoken["voice"])
        answer.hangup()
        return str(answer)

    async def _reply_after(self, tenant: TenantRecord, session_id: uuid.UUID,
                           after: int) -> tuple[str, str] | None:
        """The agent's reply after message `after`, and the session's status, once there;
        None if it did not come within `reply_wait`."""
        pool, keyring = self.hooks.conversations.pool, self.hooks.conversations.keyring
        deadline = time.monotonic() + self.reply_wait
        while True:
            async with TenantUnitOfWork(pool, tenant.names) as conn:
                row = await conn.fetchrow(
                    "SELECT m.id, m.body, s.status FROM chat_messages m JOIN chat_sessions s "
                    "ON s.id = m.session_id WHERE m.session_id = $1 AND m.seq > $2 "
                    "AND m.author = 'agent' ORDER BY m.seq LIMIT 1", session_id, after)
                if row is not None:
                    text = await keyring.cipher(tenant.names, conn).open_text(
                        store.MESSAGES, "body", row["id"], row["body"])
                    return text, str(row["status"])
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.1)

    async def _posted(self, tenant: TenantRecord, client_id: str) -> tuple[uuid.UUID, int]:
        async with TenantUnitOfWork(self.hooks.conversations.pool, tenant.names) as conn:
            row = await conn.fetchrow("SELECT session_id, seq FROM chat_messages "
                                      "WHERE client_msg_id = $1", client_id)
        assert row is not None, "a duplicate was posted before"
        return row["session_id"], row["seq"]

    async def call_status(self, url: str, params: Mapping[str, str],
                          signature: str | None) -> None:
        """A call that ended closes its conversation."""
        caller = await self.hooks.check(url, params, signature, params.get("To", ""))
        if params.get("CallStatus") not in ENDED:
            return
        await self.hooks.close_conversation(caller.tenant,
                                            Contact("voice", params.get("From", ""), ""))
