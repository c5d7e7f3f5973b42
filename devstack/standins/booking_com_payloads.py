"""The XML of the Booking.com stand-in: a queued reservation as the `HotelReservation` (or
`HotelResModify`) element Booking.com puts in an `OTA_HotelResNotifRQ`
(`OTA_HotelResModifyNotifRQ`), the reservation ids an `…RS` acknowledges, and OTA error
answers. Written from the OpenTravel 2003/05 schema as Booking.com documents it, apart from the
platform's own parser so that each checks the other."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

NS = "http://www.opentravel.org/OTA/2003/05"
FEEDS = ("OTA_HotelResNotif", "OTA_HotelResModifyNotif")


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


class QueuedReservation(BaseModel):
    """A reservation (or a change of one) for the property to fetch: `status` Commit is a new
    one (OTA_HotelResNotif), Modify or Cancel a change (OTA_HotelResModifyNotif)."""

    property_id: str = Field(pattern=r"^[0-9]+$")
    reservation_id: str = Field(pattern=r"^[0-9]{1,20}$")
    status: Literal["Commit", "Modify", "Cancel"] = "Commit"
    given_name: str = ""
    surname: str = ""
    email: str = ""
    check_in: dt.date | None = None
    check_out: dt.date | None = None
    room_type_code: str = "1"
    room_name: str = ""
    total: Decimal = Decimal(0)
    currency: str = "EUR"
    rooms: int = Field(default=1, ge=1, le=5)

    @property
    def feed(self) -> str:
        return FEEDS[0] if self.status == "Commit" else FEEDS[1]


def _room_stay(parent: ET.Element, queued: QueuedReservation) -> None:
    stay = ET.SubElement(parent, q("RoomStay"), {"IndexNumber": "1"})
    room = ET.SubElement(ET.SubElement(stay, q("RoomTypes")), q("RoomType"),
                         {"RoomTypeCode": queued.room_type_code})
    if queued.room_name:
        ET.SubElement(room, q("RoomDescription"), {"Name": queued.room_name})
    ET.SubElement(stay, q("TimeSpan"), {"Start": str(queued.check_in),
                                        "End": str(queued.check_out)})
    ET.SubElement(stay, q("Total"), {"AmountAfterTax": f"{queued.total:.2f}",
                                     "CurrencyCode": queued.currency})
    ET.SubElement(stay, q("BasicPropertyInfo"), {"HotelCode": queued.property_id})


def reservation_element(queued: QueuedReservation) -> ET.Element:
    tag = "HotelReservation" if queued.status == "Commit" else "HotelResModify"
    item = ET.Element(q(tag), {"ResStatus": queued.status,
                               "CreateDateTime": dt.datetime.now(dt.UTC).isoformat()})
    if queued.status != "Cancel":
        stays = ET.SubElement(item, q("RoomStays"))
        for _ in range(queued.rooms):
            _room_stay(stays, queued)
        customer = ET.SubElement(ET.SubElement(ET.SubElement(ET.SubElement(ET.SubElement(
            ET.SubElement(item, q("ResGuests")), q("ResGuest")), q("Profiles")),
            q("ProfileInfo")), q("Profile")), q("Customer"))
        name = ET.SubElement(customer, q("PersonName"))
        ET.SubElement(name, q("GivenName")).text = queued.given_name
        ET.SubElement(name, q("Surname")).text = queued.surname
        if queued.email:
            ET.SubElement(customer, q("Email")).text = queued.email
    info = ET.SubElement(item, q("ResGlobalInfo"))
    ids = ET.SubElement(info, q("HotelReservationIDs"))
    ET.SubElement(ids, q("HotelReservationID"), {"ResID_Type": "14",
                                                 "ResID_Value": queued.reservation_id,
                                                 "ResID_Source": "booking.com"})
    if queued.status != "Cancel":
        ET.SubElement(info, q("Total"), {"AmountAfterTax": f"{queued.total:.2f}",
                                         "CurrencyCode": queued.currency})
    return item


def _document(root: ET.Element) -> bytes:
    ET.register_namespace("", NS)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def feed_document(feed: str, queued: list[QueuedReservation]) -> bytes:
    """The `…RQ` listing `queued` (all of this feed)."""
    root = ET.Element(q(f"{feed}RQ"), {"TimeStamp": dt.datetime.now(dt.UTC).isoformat(),
                                       "Target": "Production", "Version": "2.001"})
    holder = ET.SubElement(root, q("HotelReservations" if feed == FEEDS[0]
                                   else "HotelResModifies"))
    for item in queued:
        holder.append(reservation_element(item))
    return _document(root)


def acknowledged_ids(feed: str, document: bytes) -> list[str]:
    """The reservation ids an `…RS` acknowledges; ValueError if it is not one."""
    root = ET.fromstring(document)  # noqa: S314 - the platform's own requests, in tests
    if root.tag != q(f"{feed}RS"):
        raise ValueError(f"expected {feed}RS, got {root.tag}")
    return [found.get("ResID_Value", "") for found in root.iter(q("HotelReservationID"))]


def ota_error(short_text: str, code: str = "") -> bytes:
    root = ET.Element(q("OTA_ErrorRS"), {"Version": "2.001"})
    ET.SubElement(ET.SubElement(root, q("Errors")), q("Error"),
                  {"ShortText": short_text, **({"Code": code} if code else {})})
    return _document(root)


def success(feed: str) -> bytes:
    root = ET.Element(q(f"{feed}RS"), {"Version": "2.001"})
    ET.SubElement(root, q("Success"))
    return _document(root)
