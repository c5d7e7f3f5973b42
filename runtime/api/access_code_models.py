"""What the access-code endpoints accept and answer."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field, model_validator

from simptu.runtime.api.invitation_models import EMAIL
from simptu.runtime.api.one_time_secrets import ACCESS_CODE_DIGITS


class NewAccessCode(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    code: str = Field(description="shown once; give it to the customer")
    expires_at: dt.datetime
    max_attempts: int = Field(description="wrong guesses after which the code is dead")


class AccessCodeRedeem(BaseModel):
    """The code and who the customer is: their id, e-mail or phone (exactly one)."""

    code: str = Field(pattern=rf"^\d{{{ACCESS_CODE_DIGITS}}}$", examples=["04817263"])
    customer_id: uuid.UUID | None = None
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    phone: str | None = Field(default=None, min_length=4, max_length=32,
                              pattern=r"^\+?[0-9 ()./-]+$")

    @model_validator(mode="after")
    def one_identifier(self) -> AccessCodeRedeem:
        given = [value for value in (self.customer_id, self.email, self.phone)
                 if value is not None]
        if len(given) != 1:
            raise ValueError("name the customer once: customer_id, email or phone")
        return self


class CustomerAccess(BaseModel):
    token: str = Field(description="a bearer token that reads this customer's bookings and "
                       "conversations, until expires_at")
    customer_id: uuid.UUID
    expires_at: dt.datetime


class AccessCodeRequest(BaseModel):
    """A customer asks for an access code by the phone number or the e-mail address the
    business has for them (exactly one): it goes there by SMS or by mail."""

    phone: str | None = Field(default=None, min_length=4, max_length=32,
                              pattern=r"^\+?[0-9 ()./-]+$", examples=["+40722123456"])
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL,
                              examples=["ana@example.com"])

    @model_validator(mode="after")
    def one_address(self) -> AccessCodeRequest:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give the phone number or the e-mail address, one of them")
        return self


class AccessCodeRequested(BaseModel):
    """The same answer whether or not a customer has the address (no one learns who is one)."""

    status: str = "accepted"
    detail: str = ("if a customer of ours has this number or address, an access code is on "
                   "its way to it")
