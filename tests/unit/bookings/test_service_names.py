"""A service's names per language: two-letter locales, a name that is not empty, and its
catalogue name for a language it has none in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from simptu.runtime.core.bookings.models import ServiceSpec


def cleaning(**said: dict[str, str]) -> ServiceSpec:
    return ServiceSpec(name="Cleaning", duration_minutes=45, price=Decimal(250),
                       currency="RON", **said)  # type: ignore[arg-type]


def test_names_are_kept_per_locale() -> None:
    spec = cleaning(names={"ro": "Detartraj"}, descriptions={"ro": "Detartraj și periaj"})
    assert spec.names == {"ro": "Detartraj"}
    assert spec.descriptions == {"ro": "Detartraj și periaj"}


@pytest.mark.parametrize("names", [{"romanian": "Detartraj"}, {"RO": "Detartraj"}, {"ro": ""}])
def test_a_name_needs_a_two_letter_locale_and_some_text(names: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        cleaning(names=names)
