"""The hotline's topics: what a question is about, which experts cover it, which
answers a 常见问题 menu reads. The menu's nodes name them by code."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

TOPICS = {
    "crops": _l("Crops"),
    "livestock": _l("Livestock and veterinary"),
    "fisheries": _l("Fisheries"),
    "market": _l("Supply, demand and prices"),
    "complaints": _l("Fake seed and fertiliser complaints"),
    "policy": _l("Policy and law"),
    "general": _l("General"),
}
GENERAL = "general"


def label(code: str) -> str:
    """The topic's name in the current language (an unknown code as it is)."""
    return str(TOPICS[code]) if code in TOPICS else code


def choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in TOPICS.items()]
