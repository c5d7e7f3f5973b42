"""`python -m simptu.devstack.mail_customer` writes to a demo tenant's first address, as a
customer's mail client would, and continues a thread when told which reply it answers."""

from __future__ import annotations

from simptu.devstack.demo_channels import demo_mailbox
from simptu.devstack.mail_customer import compose, parse


def test_a_customers_mail_goes_to_the_tenants_address_with_an_id_of_their_domain() -> None:
    args = parse(["--tenant", "hotel-carpati-brasov", "--from", "ana@customers.test",
                  "Aveți camere?"])
    mail = compose(args, demo_mailbox(args.tenant).addresses[0])
    assert mail["To"] == "rezervari@hotel-carpati.example"
    assert str(mail["Message-ID"]).endswith("@customers.test>")
    assert mail["In-Reply-To"] is None
    assert mail.get_content().strip() == "Aveți camere?"


def test_a_reply_names_the_mail_it_answers() -> None:
    args = parse(["--tenant", "zambet-dental-cluj", "--in-reply-to", "<r.0@x.example>", "Da"])
    mail = compose(args, demo_mailbox(args.tenant).addresses[0])
    assert (mail["In-Reply-To"], mail["References"]) == ("<r.0@x.example>", "<r.0@x.example>")
    assert mail["To"] == "programari@zambet-dental.example"
