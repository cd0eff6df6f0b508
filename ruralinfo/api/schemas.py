"""What the API takes and gives, declared once: pydantic models that validate each
request and answer and make the OpenAPI document's schemas (``openapi.py``).

Input is strict JSON (no "1" for 1, no unknown fields). Lengths and list sizes are
bounded here so that nothing a client sends can reach the database in a form it
refuses; the business rules (a region that exists, a time still to come …) are the
services'.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ruralinfo.accounts import roles as account_roles
from ruralinfo.broadcasts import services as broadcasts
from ruralinfo.broadcasts.audience import MAX_PHONES
from ruralinfo.broadcasts.models import CANCELLED, DONE, DRAFT, PAUSED, PENDING_APPROVAL, SCHEDULED, SENDING

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # text may have line breaks and tabs, no other controls


def _line(max_length: int, **kwargs):
    return Annotated[str, Field(max_length=max_length, pattern=NO_CONTROLS, **kwargs)]


def _in_range(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_range", "out of range") from None
    return value


Time = Annotated[AwareDatetime, AfterValidator(_in_range)]
RegionCode, GroupName, Phone, TopicName = _line(12), _line(60), _line(40), _line(40)
Notice, Translation = _line(broadcasts.MAX_BODY, min_length=1), _line(broadcasts.MAX_BODY)
Answer = _line(broadcasts.MAX_OPTION, min_length=1)
Role = Literal[account_roles.ALL]  # type: ignore[valid-type]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Status = Literal[DRAFT, PENDING_APPROVAL, SCHEDULED, SENDING, PAUSED, DONE, CANCELLED]


class Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Rules(Input):
    """Whom a broadcast is for (or, under ``exclude``, who is left out). A person named
    by several rules gets one text."""

    regions: list[RegionCode] = Field(default_factory=list, max_length=2000,
                                     description="Region codes (county, township, village): each with "
                                                 "everyone inside it.", examples=[["330282104"]])
    points: list[Id] = Field(default_factory=list, max_length=2000,
                             description="Liaison point ids: the farmers of the villages each serves.")
    groups: list[GroupName] = Field(default_factory=list, max_length=200,
                                    description="Interest group names, Chinese or English.", examples=[["葡萄"]])
    roles: list[Role] = Field(default_factory=list, max_length=len(account_roles.ALL),
                              description="Everyone with one of these roles.")
    phones: list[Phone] = Field(default_factory=list, max_length=MAX_PHONES,
                                    description="Mobile numbers, with or without +86; each one that is no "
                                                "phone number is reported.")


class BroadcastIn(Rules):
    """A notice to send now, or at ``send_at``; it waits for approval when it is urgent
    or goes to many people."""

    body: Notice = Field(description="The notice in Chinese.")
    body_en: Translation = Field("", description="The notice in English, for those who read "
                                                                "English (they get the Chinese one without it).")
    topic: TopicName = Field(description="A topic's key (weather, pests, prices …) or Chinese name.",
                             examples=["weather"])
    exclude: Rules = Field(default_factory=Rules, description="Who is left out, by the same rules.")
    urgent: bool = Field(False, description="An alert: goes at once, day or night, after approval.")
    send_at: Time | None = Field(None, description="When to send, ISO 8601 with its zone; now when absent.")
    reply_options: list[Answer] = Field(
        default_factory=list, max_length=broadcasts.MAX_OPTIONS,
        description="A sign-up's answers, replied by their number (1, 2 …) or their words.",
        examples=[["报名", "不参加"]])
    free_reply: bool = Field(False, description="Ask for an answer in the recipient's own words.")
    replies_close_at: Time | None = Field(None, description="When sign-up closes, ISO 8601 with its zone.")


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not silently nothing

    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(20, ge=1, le=100)
    status: Status | None = Field(None, description="Only broadcasts in this status.")


class BroadcastCreated(BaseModel):
    id: int
    status: Status
    recipients: int = Field(description="Texts to send: people reached, once each, not opted out.")
    segments: int = Field(description="SMS segments in all.")
    cost: str = Field(description="What the segments cost, a decimal number in ``currency``.",
                      pattern=r"^\d+(\.\d+)?$", examples=["1.35"])
    currency: str = Field(examples=["CNY"])


class BroadcastSummary(BaseModel):
    id: int
    status: Status
    topic: str
    urgent: bool
    body: str
    body_en: str
    created_at: AwareDatetime
    send_at: AwareDatetime | None
    recipients: int


class Broadcast(BroadcastSummary):
    approved_at: AwareDatetime | None
    counts: dict[str, int] = Field(description="Recipients by where they are: planned, opted_out, left_topic, "
                                               "or their text's status (queued, sending, sent, delivered, "
                                               "undelivered, failed …).")
    reply_options: list[str]
    free_reply: bool
    replies_close_at: AwareDatetime | None
    replies: dict[str, int] = Field(description="A sign-up's tally: how many gave each answer.")


class BroadcastPage(BaseModel):
    items: list[BroadcastSummary]
    page: int
    per_page: int
    total: int


class Error(BaseModel):
    status: int = Field(description="The HTTP status again.")
    message: str = Field(description="What went wrong, in the language of Accept-Language.")
    errors: dict[str, str] = Field(default_factory=dict,
                                   description="Per field: what is wrong with it (422, 409).")
