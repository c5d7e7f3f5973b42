"""Booking.com's OTA reservation messages (OpenTravel 2003/05): the notifications of new,
modified and cancelled reservations read from an `OTA_HotelResNotifRQ` or
`OTA_HotelResModifyNotifRQ`, and the `…RS` that acknowledges the ones stored. Pure functions.

The XML comes from Booking.com over TLS; Python's expat (2.4.1 or later) refuses entity
expansion attacks and never fetches external entities."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import ValidationError

from simptu.runtime.core.reservations import Reservation, ReservationAction

NS = "http://www.opentravel.org/OTA/2003/05"
SOURCE = "booking.com"
Feed = Literal["OTA_HotelResNotif", "OTA_HotelResModifyNotif"]
FEEDS: tuple[Feed, ...] = ("OTA_HotelResNotif", "OTA_HotelResModifyNotif")
# ResStatus values that cancel; modifications say Modify (or nothing, in the modify feed).
CANCELLING = {"cancel", "cancelled"}
MODIFYING = {"modify", "modified"}
# The list and item elements of each feed's reservations.
ITEMS: dict[Feed, tuple[str, str]] = {
    "OTA_HotelResNotif": ("HotelReservations", "HotelReservation"),
    "OTA_HotelResModifyNotif": ("HotelResModifies", "HotelResModify")}


class OtaError(ValueError):
    """A document that is not the OTA message it should be (or an OTA error answer)."""


@dataclass(frozen=True)
class Notification:
    """One reservation of a feed: what it says (`reservation`), or, when it cannot be read
    as one, why (`problem`) with whatever id it has."""

    reservation_id: str
    property_id: str
    reservation: Reservation | None
    problem: str = ""


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _find(element: ET.Element, path: str) -> ET.Element | None:
    return element.find("/".join(_q(part) for part in path.split("/")))


def _text(element: ET.Element, path: str) -> str:
    found = _find(element, path)
    return (found.text or "").strip() if found is not None else ""


def parse_feed(document: bytes, feed: Feed) -> list[Notification]:
    """The reservations of one feed's `…RQ` document, in order."""
    try:
        root = ET.fromstring(document)  # noqa: S314 - see the module's note
    except ET.ParseError as error:
        raise OtaError(f"{feed}: not XML ({error})") from error
    if root.tag != _q(f"{feed}RQ"):
        errors = [error.get("ShortText") or (error.text or "") for error in root.iter(_q("Error"))]
        raise OtaError(f"{feed}: expected {feed}RQ, got {root.tag.split('}')[-1]}"
                       + (f" ({'; '.join(errors)})" if errors else ""))
    items = [item for item in root.iter() if item.tag in (_q("HotelReservation"),
                                                          _q("HotelResModify"))]
    default: ReservationAction = "new" if feed == "OTA_HotelResNotif" else "modify"
    return [_notification(item, default) for item in items]


def _reservation_id(item: ET.Element) -> str:
    ids = item.iter(_q("HotelReservationID"))
    values = [found.get("ResID_Value", "") for found in ids]
    unique = _find(item, "UniqueID")
    return next((value for value in values if value),
                unique.get("ID", "") if unique is not None else "")


def _notification(item: ET.Element, default: ReservationAction) -> Notification:
    reservation_id = _reservation_id(item)
    status = (item.get("ResStatus") or "").strip().casefold()
    action: ReservationAction = ("cancel" if status in CANCELLING else
                                 "modify" if status in MODIFYING else default)
    stays = list(item.iter(_q("RoomStay")))
    hotel = next((found.get("HotelCode", "") for found in item.iter(_q("BasicPropertyInfo"))),
                 item.get("HotelCode", ""))
    if not reservation_id:
        return Notification("", hotel, None, "a reservation without a HotelReservationID")
    if action != "cancel" and len(stays) != 1:
        return Notification(reservation_id, hotel, None,
                            f"{len(stays)} room stays (one booking holds one room)")
    try:
        reservation = Reservation.model_validate(
            {"source": SOURCE, "reservation_id": reservation_id, "action": action,
             **(_stay(item, stays[0]) if action != "cancel" else {})})
    except (ValidationError, ValueError, InvalidOperation) as error:
        return Notification(reservation_id, hotel, None, f"not understood: {error}")
    return Notification(reservation_id, hotel, reservation)


def _stay(item: ET.Element, stay: ET.Element) -> dict[str, object]:
    span = _find(stay, "TimeSpan")
    room = _find(stay, "RoomTypes/RoomType")
    described = _find(stay, "RoomTypes/RoomType/RoomDescription")
    total = _find(item, "ResGlobalInfo/Total")
    if total is None:
        total = _find(stay, "Total")
    name = " ".join(part for part in (_text(guest, "GivenName") + " " + _text(guest, "Surname")
                                      for guest in item.iter(_q("PersonName"))) if part.strip())
    email = next((found.text.strip() for found in item.iter(_q("Email")) if found.text), None)
    return {
        "check_in": dt.date.fromisoformat(span.get("Start", "") if span is not None else ""),
        "check_out": dt.date.fromisoformat(span.get("End", "") if span is not None else ""),
        "room_type": ((described.get("Name") if described is not None else None)
                      or (room.get("RoomTypeCode") if room is not None else None) or ""),
        "guest_name": name.strip()[:200], "guest_email": email,
        "total": Decimal(total.get("AmountAfterTax", "")) if total is not None else None,
        "currency": total.get("CurrencyCode") if total is not None else None,
    }


def acknowledgement(feed: Feed, reservation_ids: list[str], *,
                    now: dt.datetime | None = None) -> bytes:
    """The `…RS` that tells Booking.com these reservations were stored."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    root = ET.Element(_q(f"{feed}RS"), {"TimeStamp": stamp, "Target": "Production",
                                        "Version": "2.001"})
    ET.SubElement(root, _q("Success"))
    holder_tag, item_tag = ITEMS[feed]
    holder = ET.SubElement(root, _q(holder_tag))
    for reservation_id in reservation_ids:
        item = ET.SubElement(holder, _q(item_tag))
        ids = ET.SubElement(ET.SubElement(item, _q("ResGlobalInfo")), _q("HotelReservationIDs"))
        ET.SubElement(ids, _q("HotelReservationID"),
                      {"ResID_Type": "14", "ResID_Value": reservation_id})
    ET.register_namespace("", NS)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
