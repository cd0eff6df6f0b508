"""The Twilio backend, through the twilio library's REST client.

``TWILIO_FROM`` is a sender number or a Messaging Service SID (``MG…``). Status
callbacks go to ``PUBLIC_BASE_URL`` + ``/twilio/sms/status``. ``TWILIO_API_BASE``
(tests only) points the real client, over real HTTP, at a local fake of the API.

Twilio has no idempotency key, so an error is retryable only when no message
can have been created: HTTP 429, or a connection that was never made. A request
that went out and got no answer raises ``SendOutcomeUnknown``; ``find`` then
looks the message up.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ruralinfo.sms import status
from ruralinfo.sms.gateways import GatewayError, SendOutcomeUnknown, SendResult, register
from ruralinfo.sms.models import SENDING

STATUS_CALLBACK_PATH = "/twilio/sms/status"
DEFAULT_TIMEOUT = 10.0
# How many of the newest messages to a number ``find`` reads.
FIND_LIMIT = 100
# Twilio's date_created has whole seconds and its clock is not ours.
CLOCK_SKEW = timedelta(seconds=30)


class TwilioGateway:
    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, sender: str, callback_url: str | None,
                 timeout: float = DEFAULT_TIMEOUT, api_base: str = ""):
        if not (account_sid and auth_token and sender):
            raise RuntimeError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        self.sender = sender
        self.callback_url = callback_url
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if api_base:
            # The Api domain builds every Messages URL (and next-page URL) from base_url.
            self.client.api.base_url = api_base.rstrip("/")

    def _sender_args(self) -> dict:
        if self.sender.startswith("MG"):
            return {"messaging_service_sid": self.sender}
        return {"from_": self.sender}

    def send(self, to: str, body: str, callback_url: str | None = None) -> SendResult:
        """Create the message at Twilio; the status it answers is usually queued (→ sending)."""
        callback = callback_url or self.callback_url
        extra = {"status_callback": callback} if callback else {}
        try:
            message = self.client.messages.create(to=to, body=body, **self._sender_args(), **extra)
        except TwilioRestException as err:
            raise _rest_error(err) from err
        except requests.exceptions.RequestException as err:
            raise _transport_error(err) from err
        except ValueError as err:  # a 2xx answer that is not Twilio's JSON: it may have been created
            raise SendOutcomeUnknown(f"unreadable answer: {err}") from err
        return SendResult(provider_id=message.sid, status=status.from_provider(message.status) or SENDING)

    def find(self, to: str, body: str, since: datetime, *, exclude: Collection[str] = ()) -> SendResult | None:
        """The earliest message to ``to`` with exactly ``body`` created at or after ``since``,
        skipping the sids in ``exclude`` (already stored on other rows: the same text sent twice).

        Lists by recipient only: Twilio's date filters apply to date_sent (whole
        days), which a message still waiting in Twilio's queue does not have yet."""
        earliest = since.replace(tzinfo=UTC, microsecond=0) - CLOCK_SKEW
        filters = {} if self.sender.startswith("MG") else {"from_": self.sender}
        try:
            listed = self.client.messages.list(to=to, limit=FIND_LIMIT, **filters)
        except TwilioRestException as err:
            raise _rest_error(err) from err
        except requests.exceptions.RequestException as err:
            raise GatewayError(f"lookup failed: {type(err).__name__}", retryable=True) from err
        matches = [m for m in listed if m.body == body and m.sid not in exclude
                   and m.date_created is not None and m.date_created >= earliest]
        if not matches:
            return None
        found = min(matches, key=lambda m: m.date_created)
        return SendResult(provider_id=found.sid, status=status.from_provider(found.status) or SENDING)


def _rest_error(err: TwilioRestException) -> GatewayError:
    code = str(err.code or err.status)
    text = f"HTTP {err.status} error {code}: {err.msg}"
    return GatewayError(text, retryable=err.status == 429, code=code)


def _transport_error(err: requests.exceptions.RequestException) -> Exception:
    """Retryable when the request cannot have reached Twilio, unknown when it may have."""
    if isinstance(err, requests.exceptions.ConnectTimeout) or _never_connected(err):
        return GatewayError(f"could not connect: {type(err).__name__}", retryable=True)
    if isinstance(err, (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                        requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return SendOutcomeUnknown(f"no answer after sending: {type(err).__name__}")
    return GatewayError(f"request not sent: {type(err).__name__}: {err}")  # bad URL, bad settings


def _never_connected(err: requests.exceptions.RequestException) -> bool:
    """Connection refused or name not resolved: urllib3 gave up before sending a byte."""
    if type(err) is not requests.exceptions.ConnectionError or not err.args:
        return False
    cause = err.args[0]
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)


def make(config) -> TwilioGateway:
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return TwilioGateway(
        account_sid=config.get("TWILIO_ACCOUNT_SID", ""),
        auth_token=config.get("TWILIO_AUTH_TOKEN", ""),
        sender=config.get("TWILIO_FROM", ""),
        callback_url=f"{base}{STATUS_CALLBACK_PATH}" if base else None,
        timeout=float(config.get("SMS_SEND_TIMEOUT") or DEFAULT_TIMEOUT),
        api_base=config.get("TWILIO_API_BASE", ""),
    )


register("twilio", make)
