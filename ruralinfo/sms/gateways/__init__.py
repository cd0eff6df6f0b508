"""SMS gateways: one small interface, many backends, chosen by ``SMS_BACKEND``.

A backend registers a factory under its name; the factory takes the app
config and returns an object with ``send`` and ``find``. Nothing outside a
backend may assume which one is in use (Twilio cannot receive SMS inside China;
an SMPP/Kannel backend will be another entry here).
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import current_app


@dataclass(frozen=True)
class SendResult:
    """What the provider answered: its id for the message and our status name
    (``sending`` when accepted into its queue, ``sent`` when already handed on)."""

    provider_id: str
    status: str


class GatewayError(Exception):
    """The provider refused or could not be reached.

    ``retryable`` is True only when sending again cannot make a second message:
    the provider said "too many requests" (HTTP 429) or the connection was
    refused before anything was sent."""

    def __init__(self, message: str, *, retryable: bool = False, code: str = ""):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class SendOutcomeUnknown(Exception):
    """The request may have reached the provider (a time-out after sending):
    never send again blindly; reconcile with ``find``. ``provider_id``: the text's id
    when the gateway chose it before sending (Kannel), so that its reports find it."""

    def __init__(self, message: str, *, provider_id: str | None = None):
        super().__init__(message)
        self.provider_id = provider_id


class Gateway(Protocol):
    name: str

    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        """Hand one text to the provider. Raises GatewayError or SendOutcomeUnknown."""

    def find(self, to: str, body: str, since: datetime, *, exclude: Collection[str] = ()) -> SendResult | None:
        """Look a message up at the provider (after an unknown outcome): the one to
        ``to`` with this ``body`` created at or after ``since`` (naive UTC), whose
        provider id is not in ``exclude`` (ids already matched to other rows), or None."""


_FACTORIES: dict[str, Callable[[dict], Gateway]] = {}


def register(name: str, factory: Callable[[dict], Gateway]) -> None:
    _FACTORIES[name] = factory


def names() -> list[str]:
    return sorted(_FACTORIES)


def current() -> Gateway:
    """The configured gateway for this app (built once per app)."""
    ext = current_app.extensions
    if "sms_gateway" not in ext:
        name = current_app.config["SMS_BACKEND"]
        if name not in _FACTORIES:
            raise RuntimeError(f"unknown SMS_BACKEND {name!r}; known: {', '.join(names())}")
        ext["sms_gateway"] = _FACTORIES[name](current_app.config)
    return ext["sms_gateway"]
