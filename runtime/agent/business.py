"""What differs between a dental clinic, a gym and a hotel: the words customers use for each
service of the demo catalogues, what a booking is called, and the instructions a hosted
model is given. The graph and its actions are the same for all three."""

from __future__ import annotations

from dataclasses import dataclass, field

from simptu.runtime.core.language import Locale


@dataclass(frozen=True)
class BusinessProfile:
    business_type: str
    # What a booking is called, per language (Romanian with its article: "programarea").
    booking_noun: dict[Locale, str]
    # Catalogue name → other words for it (lowercase, any language, diacritics optional).
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_the_night: bool = False
    instructions: str = ""

    def vocabulary(self, catalogue: list[str]) -> dict[str, tuple[str, ...]]:
        """Every service of the tenant's catalogue with the words for it this profile knows."""
        return {name: self.synonyms.get(name, ()) for name in catalogue}


DENTAL = BusinessProfile(
    "dental-clinic", {"ro": "programarea", "en": "appointment"},
    synonyms={"Consultation": ("consultatie", "consult", "control", "check-up", "checkup",
                               "check up", "examination"),
              "Cleaning": ("detartraj", "detartrare", "curatare", "igienizare", "scale and polish",
                           "scaling", "cleaning", "hygiene"),
              "Filling": ("plomba", "obturatie", "carie", "cavity", "filling")},
    instructions="You are the receptionist of a dental clinic: appointments with dentists.")
GYM = BusinessProfile(
    "gym", {"ro": "rezervarea", "en": "booking"},
    synonyms={"Yoga": ("yoga",),
              "Spinning": ("spinning", "spin", "cycling", "ciclism", "bicicleta"),
              "Personal training": ("antrenament personal", "antrenamentul personal",
                                    "antrenor personal", "antrenor", "antrenorul",
                                    "personal trainer", "pt session", "coach")},
    instructions="You are the front desk of a gym: places in classes and personal training.")
HOTEL = BusinessProfile(
    "hotel", {"ro": "rezervarea", "en": "reservation"},
    synonyms={"Double room": ("camera dubla", "double", "dubla"),
              "Family suite": ("apartament", "suita", "family", "familie", "suite")},
    by_the_night=True,
    instructions="You are the reception of a hotel: room reservations by the night.")

PROFILES = {profile.business_type: profile for profile in (DENTAL, GYM, HOTEL)}


def profile_of(business_type: str) -> BusinessProfile:
    return PROFILES[business_type]
