"""The stack's mail servers, from Debian: Dovecot holds the mailboxes (IMAP for the platform's
ingest and for tests, LMTP for delivery) and Postfix accepts mail by SMTP and delivers it to
Dovecot. Every domain is local, so nothing ever leaves the machine: a tenant's address and a
test customer's (ana@customers.test) are both mailboxes here, created on their first mail, and
every mailbox opens with the stack's one mail password. Postfix rather than an SMTP server of
our own: what the platform sends meets a real MTA (queueing, Message-ID, bounces)."""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import aiosmtplib

from simptu.devstack.processes import Launch
from simptu.devstack.services.base import Context, NotReady, Service

POSTFIX_LIBEXEC = Path("/usr/lib/postfix/sbin")
# Postfix's own services, run unchrooted (the state folder is not a chroot jail).
POSTFIX_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
showq     unix  n       -       n       -       -       showq
"""


class Mailboxes(Service):
    """Dovecot: IMAP and LMTP on loopback, Maildirs under the state folder."""

    name = "mail-imap"

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        mail = pwd.getpwnam("mail")
        boxes = home / "mailboxes"
        boxes.mkdir(exist_ok=True)
        os.chown(boxes, mail.pw_uid, mail.pw_gid)
        s = ctx.settings
        config = home / "dovecot.conf"
        config.write_text(f"""\
base_dir = {home / 'run'}
state_dir = {home / 'state'}
instance_name = simptu-mail
protocols = imap lmtp
listen = {s.host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = /dev/stderr
first_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
mail_location = maildir:~/Maildir
passdb {{
  driver = static
  args = password={self.password(ctx)}
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={boxes}/%Ld/%Ln
}}
service imap-login {{
  inet_listener imap {{
    address = {s.host}
    port = {s.mail_imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {s.host}
    port = {s.mail_lmtp_port}
  }}
}}
protocol imap {{
  # The platform's ingest, tests and benchmarks open many sessions from one address.
  mail_max_userip_connections = 500
}}
""")
        config.chmod(0o600)

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["/usr/sbin/dovecot", "-F", "-c",
                            str(ctx.folder(self.name) / "dovecot.conf")])

    def password(self, ctx: Context) -> str:
        return ctx.secret("mail_password")

    def url(self, ctx: Context) -> str:
        return f"imap://{ctx.settings.host}:{ctx.settings.mail_imap_port}"

    async def probe(self, ctx: Context) -> None:
        await asyncio.to_thread(self._login, ctx)

    def _login(self, ctx: Context) -> None:
        with imaplib.IMAP4(ctx.settings.host, ctx.settings.mail_imap_port, timeout=5) as imap:
            status, _ = imap.login("postmaster@simptu.test", self.password(ctx))
            if status != "OK":
                raise NotReady(f"IMAP login answered {status}")

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_MAIL_IMAP_URL": self.url(ctx),
                "SIMPTU_MAIL_PASSWORD": self.password(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)


class MailTransfer(Service):
    """Postfix: SMTP on loopback for every domain, delivered to Dovecot by LMTP."""

    name = "mail-smtp"
    needs = ("mail-imap",)

    def prepare(self, ctx: Context) -> None:
        home = ctx.folder(self.name)
        self._stop_stale_master(ctx)
        (home / "config").mkdir(exist_ok=True)
        (home / "queue").mkdir(exist_ok=True)
        data = home / "data"
        data.mkdir(exist_ok=True)
        shutil.chown(data, "postfix")
        s = ctx.settings
        (home / "config" / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {home / 'queue'}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = {POSTFIX_LIBEXEC}
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.simptu.test
mydestination =
inet_interfaces = {s.host}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Every domain is delivered to this machine's mailboxes; nothing is relayed anywhere else.
virtual_mailbox_domains = static:all
virtual_transport = lmtp:inet:{s.host}:{s.mail_lmtp_port}
default_transport = error:the local mail server delivers to its own mailboxes only
relayhost =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = /dev/stdout
alias_maps =
alias_database =
biff = no
""")
        (home / "config" / "master.cf").write_text(
            f"{s.host}:{s.mail_smtp_port} inet n - n - - smtpd\n" + POSTFIX_SERVICES)

    def launch(self, ctx: Context) -> Launch:
        return Launch(argv=["/usr/sbin/postfix", "-c", str(self._config(ctx)), "start-fg"])

    def cleanup(self, ctx: Context) -> None:
        # Postfix's master makes its own session, out of reach of the stop of our process
        # group: `postfix stop` ends it and its children.
        self._stop_stale_master(ctx)

    def _config(self, ctx: Context) -> Path:
        return ctx.folder(self.name) / "config"

    def _stop_stale_master(self, ctx: Context) -> None:
        if (self._config(ctx) / "main.cf").exists():
            subprocess.run(["/usr/sbin/postfix", "-c", str(self._config(ctx)), "stop"],
                           capture_output=True, check=False, timeout=60)

    def url(self, ctx: Context) -> str:
        return f"smtp://{ctx.settings.host}:{ctx.settings.mail_smtp_port}"

    async def probe(self, ctx: Context) -> None:
        client = aiosmtplib.SMTP(hostname=ctx.settings.host, port=ctx.settings.mail_smtp_port,
                                 timeout=5, start_tls=False)
        await client.connect()
        try:
            code, message = await client.noop()
            if code != 250:
                raise NotReady(f"SMTP NOOP answered {code} {message}")
        finally:
            await client.quit()

    def env(self, ctx: Context) -> dict[str, str]:
        return {"SIMPTU_MAIL_SMTP_URL": self.url(ctx)}

    def endpoint(self, ctx: Context) -> str:
        return self.url(ctx)

    def hint(self, ctx: Context) -> str:
        return (f"Mail: every address is a mailbox on this machine; send by SMTP to "
                f"{ctx.settings.host}:{ctx.settings.mail_smtp_port}, read by IMAP at "
                f"{ctx.settings.host}:{ctx.settings.mail_imap_port} "
                "(login: the address, password: SIMPTU_MAIL_PASSWORD of `make -s env`).")
