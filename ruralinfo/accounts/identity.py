"""Resident ID numbers (居民身份证号, GB 11643-1999): checking, encryption, masking.

The check character and the historical place-of-birth table come from
python-stdnum (``stdnum.cn.ric``); this module adds what it leaves out (dates in
the future, the 15-digit legacy form, the region tree we ship) and turns each
failure into a reason a liaison can act on.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

REASONS = {
    "empty": _l("Enter the ID number."),
    "legacy15": _l("This is an old 15-digit ID number. Ask for the 18-digit number on the "
                   "second-generation ID card."),
    "length": _l("An ID number has 18 characters; this one has %(n)s."),
    "chars": _l("An ID number is 17 digits followed by a digit or X."),
    "region": _l("The first 6 digits are not a known region code."),
    "date": _l("Digits 7–14 are not a real date of birth."),
    "future": _l("The date of birth in this ID number is in the future."),
    "check": _l("The last character does not match the others: a digit is probably mistyped."),
}


class IdNumberError(ValueError):
    """An ID number failed a check; ``code`` is a key of ``REASONS``."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return str(REASONS[self.code]) % self.params if self.params else str(REASONS[self.code])


def normalize(raw: str | None) -> str:
    """Full-width to half-width, spaces and dashes out, ``x`` to ``X``."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_").upper()


def validate(raw: str | None, *, today: date | None = None,
             known_county: Callable[[str], bool] | None = None) -> str:
    """Return the normalized 18-character number or raise ``IdNumberError``.

    ``known_county(prefix6)`` may accept a region prefix that the historical
    table in python-stdnum does not know (a county created after its release).
    """
    number = normalize(raw)
    if not number:
        raise IdNumberError("empty")
    if len(number) == 15 and number.isdigit():
        raise IdNumberError("legacy15")
    if len(number) != 18:
        raise IdNumberError("length", n=len(number))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("chars")
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise IdNumberError("date") from None
    if born > (today or date.today()):
        raise IdNumberError("future")
    if born.year < 1880:
        raise IdNumberError("date")
    if not _known_place(number, known_county):
        raise IdNumberError("region")
    if number[17] != ric.calc_check_digit(number):
        raise IdNumberError("check")
    return number


def _known_place(number: str, known_county: Callable[[str], bool] | None) -> bool:
    """Known to the historical table (any year: numbers are issued where a person
    registers, often long after birth) or to the region tree we ship."""
    results = numdb.get("cn/loc").info(number[:6])
    if any(props for _part, props in results):
        return True
    return bool(known_county and known_county(number[:6]))


def mask(number: str) -> str:
    """``330282198001011234`` → ``330282**********34``: region and last two only."""
    return number[:6] + "*" * (len(number) - 8) + number[-2:]


class IdentityVault:
    """Authenticated encryption and keyed hashing of ID numbers under one secret.

    Two independent keys are derived from ``IDENTITY_KEY`` with HKDF: one for
    AES-256-GCM, one for the HMAC-SHA256 digest used to find duplicates.
    """

    VERSION = b"\x01"

    def __init__(self, secret: str):
        material = secret.encode()
        self._aead = AESGCM(self._derive(material, b"ruralinfo id-number encryption"))
        self._mac_key = self._derive(material, b"ruralinfo id-number digest")

    @staticmethod
    def _derive(material: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)

    def encrypt(self, number: str) -> bytes:
        nonce = os.urandom(12)
        return self.VERSION + nonce + self._aead.encrypt(nonce, number.encode(), b"id-number")

    def decrypt(self, blob: bytes) -> str:
        if blob[:1] != self.VERSION:
            raise ValueError("unknown ID cipher version")
        nonce, body = blob[1:13], blob[13:]
        return self._aead.decrypt(nonce, body, b"id-number").decode()

    def digest(self, number: str) -> str:
        return hmac.new(self._mac_key, number.encode(), hashlib.sha256).hexdigest()

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Encrypt any blob (a rejects file) under the same key."""
        nonce = os.urandom(12)
        return self.VERSION + nonce + self._aead.encrypt(nonce, data, b"blob")

    def decrypt_bytes(self, blob: bytes) -> bytes:
        return self._aead.decrypt(blob[1:13], blob[13:], b"blob")


def vault() -> IdentityVault:
    """The vault for the current app (built once per app)."""
    from flask import current_app

    ext = current_app.extensions
    if "identity_vault" not in ext:
        ext["identity_vault"] = IdentityVault(current_app.config["IDENTITY_KEY"])
    return ext["identity_vault"]


def new_secret() -> str:
    """A fresh random secret suitable for ``IDENTITY_KEY`` or ``SECRET_KEY``."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def compose(region6: str, born: date, sequence: int) -> str:
    """A well-formed number for ``region6``, ``born`` and a 3-digit ``sequence``
    (odd for men), with its check character. Used for demo and test data."""
    body = f"{region6}{born:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")
