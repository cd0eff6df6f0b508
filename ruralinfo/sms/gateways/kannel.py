"""The Kannel backend: texts through Kannel's smsbox ``sendsms`` HTTP interface, for a
county in China that reaches its operator or aggregator over SMPP.

Chinese goes as UCS-2 (``coding=2`` with the charset given), a text of plain ASCII as
GSM 7-bit (``coding=0``), so that Kannel cuts a long text into the same concatenated
parts (the sendsms-user's ``concatenation``) as ``segments.count`` counts and bills. Each text gets an id of
ours, carried in its delivery-report URL (``dlr-mask=31``: every report) so that a
report finds its message: ``PUBLIC_BASE_URL/kannel/dlr?secret=…&id=…&status=%d&answer=%A``.

Kannel keeps no message list to look up, so only an error that cannot have made a text
is retryable: a connection refused (Kannel down: the text stays queued and the sweep
sends it when Kannel is back), its 503 (queue full) or a refusal Kannel answered. A
request that went out and got no answer is an unknown outcome, never sent again blindly:
the text keeps its id, so that Kannel's report (8 accepted, 16 rejected…) settles it.
"""
from __future__ import annotations

import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Collection
from datetime import datetime

from ruralinfo.sms import segments
from ruralinfo.sms.gateways import GatewayError, SendOutcomeUnknown, SendResult, register
from ruralinfo.sms.models import SENDING

DLR_PATH = "/kannel/dlr"
DLR_ALL = 31  # delivered, undelivered, buffered, accepted by the SMSC, rejected
DEFAULT_TIMEOUT = 10.0
ACCEPTED = ("0:", "3:")  # "0: Accepted for delivery", "3: Queued for later delivery"


class KannelGateway:
    name = "kannel"

    def __init__(self, *, send_url: str, username: str, password: str, secret: str, public_url: str,
                 sender: str = "", timeout: float = DEFAULT_TIMEOUT):
        if not (send_url and username and password and secret):
            raise RuntimeError("SMS_BACKEND=kannel needs KANNEL_SEND_URL, KANNEL_USERNAME, KANNEL_PASSWORD "
                               "and KANNEL_SECRET")
        self.send_url, self.username, self.password = send_url, username, password
        self.secret, self.sender, self.timeout = secret, sender, timeout
        self.dlr_base = public_url.rstrip("/") + DLR_PATH

    def send(self, to: str, body: str, callback_url: str | None = None) -> SendResult:
        """Hand the text to Kannel (UCS-2, every delivery report asked for)."""
        provider_id = f"kannel-{uuid.uuid4().hex}"
        report = f"{self.dlr_base}?{urllib.parse.urlencode({'secret': self.secret, 'id': provider_id})}" \
                 "&status=%d&answer=%A"
        plain = body.isascii() and segments.encoding_of(body) == segments.GSM7
        params = {"username": self.username, "password": self.password, "to": to, "text": body,
                  "coding": 0 if plain else 2, "charset": "UTF-8", "dlr-mask": DLR_ALL, "dlr-url": report}
        if self.sender:
            params["from"] = self.sender
        url = f"{self.send_url}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                answer = response.read().decode("utf-8", "replace").strip()
        except urllib.error.HTTPError as err:  # Kannel answered: it refused (nothing was sent)
            detail = err.read().decode("utf-8", "replace").strip()
            # 503 "Temporal failure, try again later": its queue is full or it is stopping
            raise GatewayError(f"Kannel refused the text ({err.code}): {detail}", code=str(err.code),
                               retryable=err.code == 503) from err
        except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, ConnectionRefusedError):  # Kannel is down: nothing went out
                raise GatewayError("Kannel is not reachable (connection refused)", retryable=True) from err
            raise SendOutcomeUnknown(f"no answer from Kannel: {reason}", provider_id=provider_id) from err
        if not answer.startswith(ACCEPTED):
            raise GatewayError(f"Kannel did not accept the text: {answer}")
        return SendResult(provider_id=provider_id, status=SENDING)

    def find(self, to: str, body: str, since: datetime, *, exclude: Collection[str] = ()) -> SendResult | None:
        """Kannel keeps no list of messages to look one up in."""
        return None


def make(config) -> KannelGateway:
    return KannelGateway(send_url=config.get("KANNEL_SEND_URL", ""), username=config.get("KANNEL_USERNAME", ""),
                         password=config.get("KANNEL_PASSWORD", ""), secret=config.get("KANNEL_SECRET", ""),
                         public_url=config["PUBLIC_BASE_URL"], sender=config.get("KANNEL_FROM", ""),
                         timeout=float(config.get("SMS_SEND_TIMEOUT") or DEFAULT_TIMEOUT))


register("kannel", make)
