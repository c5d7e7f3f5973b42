"""E-mail: the tenants' mailboxes read by IMAP, replies and the platform's own mails sent by
SMTP through the platform's mail relay."""
