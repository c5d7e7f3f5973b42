"""Bounces as mail servers send them: a delivery status notification (RFC 3464) returning a
mail, for the e-mail tests (unit and against the stack)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage


def returned_mail(daemon: str, to: str, message_id: str) -> EmailMessage:
    """The report `daemon` (MAILER-DAEMON@…) sends `to` about the mail `message_id`."""
    report = EmailMessage()
    report["From"] = f"Mail Delivery System <{daemon}>"
    report["To"] = to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = f"<{uuid.uuid4()}@{daemon.partition('@')[2]}>"
    report["Auto-Submitted"] = "auto-replied"
    report.set_content("I'm sorry to have to inform you that your message could not be "
                       "delivered to one or more recipients.")
    report.make_mixed()
    report.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    status = EmailMessage()
    status.set_content("Reporting-MTA: dns; mx.test\n\nFinal-Recipient: rfc822; gone@x.test\n"
                       "Action: failed\nStatus: 5.1.1\n")
    report.attach(status)
    original = EmailMessage()
    original["Message-ID"] = message_id
    original["Subject"] = "Re: Cameră"
    original.set_content("(returned)")
    report.add_attachment(original)
    return report
