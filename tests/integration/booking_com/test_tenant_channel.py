"""The operator provisions the demo hotel's channels.bookingCom: the machine account of its
Secret sealed as the tenant's booking_com account, the property in the registry, and the same
property claimed by another tenant named as a clash."""

from __future__ import annotations

import asyncpg

from simptu.devstack.demo_channels import demo_booking_com_property, demo_booking_com_secret
from simptu.operator.channels import Identifier, clashes
from simptu.runtime.core.channels.accounts import ChannelAccounts
from simptu.runtime.core.channels.routing import BOOKING_COM_PROPERTY, RegistryIndex
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

HOTEL = "hotel-carpati-brasov"


async def test_the_demo_hotels_machine_account_and_property_are_provisioned(
        db: asyncpg.Pool, key_ring: KeyRing, core_settings: CoreSettings) -> None:
    account = await ChannelAccounts(db, key_ring).get(TenantNames(HOTEL), "booking_com")
    assert account is not None
    secret = demo_booking_com_secret(HOTEL)
    assert (account.account_id, account.credentials) == (
        demo_booking_com_property(HOTEL).property_id,
        {"username": secret["username"], "password": secret["password"]})
    index = RegistryIndex(OpenBaoTransit.from_settings(core_settings))
    claimed = Identifier(BOOKING_COM_PROPERTY, account.account_id,
                         await index.of(BOOKING_COM_PROPERTY, account.account_id))
    assert await clashes(db, TenantNames("zambet-dental-cluj"), [claimed]) == [
        f"Booking.com property {account.account_id} is already used by tenant {HOTEL}"]
    assert await clashes(db, TenantNames(HOTEL), [claimed]) == []
