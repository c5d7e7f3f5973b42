"""Sending a mail through the platform's relay (`SIMPTU_MAIL_SMTP_URL`), with what the relay
said mapped to the senders' SendError kinds: a refusal that may pass later (4xx, no connection)
is `transient`, one that never will (5xx) is `permanent`, and a connection lost after the mail
was handed over is `uncertain` (the mail may have gone: never sent again)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from simptu.runtime.channels.send_errors import Kind, SendError

SCHEMES = {"smtp": (False, 25), "smtps": (True, 465)}


@dataclass(frozen=True)
class Login:
    username: str
    password: str


@dataclass(frozen=True)
class RelayAddress:
    """Where the relay listens and how to log in, from `smtp[s]://[user:password@]host:port`."""

    host: str
    port: int
    implicit_tls: bool
    login: Login | None

    @classmethod
    def parse(cls, url: str) -> RelayAddress:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"a mail relay URL is smtp://host:port or smtps://host:port, "
                             f"not {parts.scheme or 'no scheme'}://{parts.hostname or ''}")
        implicit_tls, default_port = SCHEMES[parts.scheme]
        login = (Login(unquote(parts.username), unquote(parts.password or ""))
                 if parts.username else None)
        return cls(parts.hostname, parts.port or default_port, implicit_tls, login)


class MailRelay:
    """One relay; each `send` is one SMTP session (mails are few and the relay is near)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.address = RelayAddress.parse(url)
        self.timeout = timeout

    async def send(self, message: EmailMessage, login: Login | None = None) -> None:
        """Hand `message` to the relay for its From and To/Cc/Bcc; `login` (a tenant's own
        credentials) replaces the relay's own. A mail some recipients refused went to the
        others: it is not sent again."""
        use = login or self.address.login
        try:
            await aiosmtplib.send(
                message, hostname=self.address.host, port=self.address.port,
                username=use.username if use else None, password=use.password if use else None,
                use_tls=self.address.implicit_tls, timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise _refused(min(refusal.code for refusal in error.recipients),
                           "; ".join(refusal.message for refusal in error.recipients)) from error
        except aiosmtplib.SMTPResponseException as error:
            raise _refused(error.code, error.message) from error
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError) as error:
            raise SendError("transient", "connect", str(error)) from error
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
            raise SendError("uncertain", "disconnected", str(error)) from error
        except OSError as error:
            raise SendError("transient", "connect", str(error)) from error
        except ValueError as error:  # an address that is no address: no relay would take it
            raise SendError("permanent", "address", str(error)) from error


def _refused(code: int, message: str) -> SendError:
    kind: Kind = "transient" if 400 <= code < 500 else "permanent"
    return SendError(kind, str(code), message)
