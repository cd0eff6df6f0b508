"""The doctor's HTTP requests, and addresses shown without their secrets."""
from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 5  # seconds for each HTTP request


class NoAnswer(Exception):
    """No HTTP answer came; the message says why, in plain words."""


def get(url: str) -> tuple[int, str]:
    """GET ``url``: the status and body of any HTTP answer (4xx and 5xx too); NoAnswer when none came."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.read(1_000_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read(1_000_000).decode("utf-8", "replace")
    except ValueError:
        raise NoAnswer("not a valid address") from None
    except (OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        if isinstance(reason, ConnectionRefusedError):
            raise NoAnswer("connection refused") from None
        if isinstance(reason, TimeoutError):
            raise NoAnswer(f"no answer within {TIMEOUT} seconds") from None
        if isinstance(reason, socket.gaierror):
            raise NoAnswer("the host name is not known") from None
        if isinstance(reason, ConnectionResetError):
            raise NoAnswer("the connection was closed without an answer") from None
        raise NoAnswer(type(reason).__name__) from None


def mask(url: str) -> str:
    """``url`` with the password of its user part and every query value replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    if ":" in user:
        url = url.replace(f"{user}@", f"{user.split(':')[0]}:***@", 1)
    if parts.query:
        keys = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        url = url.split("?", 1)[0] + "?" + "&".join(f"{key}=***" for key, _ in keys)
    return url
