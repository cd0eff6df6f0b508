"""Phone numbers: parsed with phonenumbers (default region CN), stored in E.164."""
from __future__ import annotations

import unicodedata

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import PhoneNumberType

REASONS = {
    "empty": _l("Enter the mobile number."),
    "invalid": _l("This is not a valid phone number."),
    "not_mobile": _l("This is not a mobile number: text messages cannot reach it."),
}
MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class PhoneError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(REASONS[self.code])


def normalize(raw: str | None, region: str = "CN", *, mobile: bool = True) -> str:
    """Return the number in E.164 (``+8613800000000``) or raise ``PhoneError``."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise PhoneError("empty")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError("invalid") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError("invalid")
    if mobile and phonenumbers.number_type(parsed) not in MOBILE_TYPES:
        raise PhoneError("not_mobile")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """How people write the number: national format for China, international otherwise."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 86:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
