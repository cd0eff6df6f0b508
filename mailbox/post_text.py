"""How a post reads in a short text or a list: product, quantity, price, as farmers
write them (``土豆 500斤 1.5元/斤``), in the reader's language."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import get_locale
from flask_babel import gettext as _

from mailbox import products


def number(value: Decimal | None) -> str:
    """``500.0000`` → ``500``, ``1.5000`` → ``1.5``."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def what(product_name: str | None, quantity, unit, price, price_unit, negotiable: bool, notes: str = "") -> str:
    """``土豆 500斤 1.5元/斤`` (or ``… 面议``); the notes after, when there are any."""
    parts = [product_name] if product_name else []
    if quantity is not None:
        parts.append(f"{number(quantity)}{unit or ''}")
    if price is not None:
        parts.append(_("%(price)s yuan/%(unit)s", price=number(price), unit=price_unit or unit or "")
                     if price_unit or unit else _("%(price)s yuan", price=number(price)))
    elif negotiable:
        parts.append(_("price negotiable"))
    if notes:
        parts.append(notes)
    return " ".join(parts)


def of_post(post) -> str:
    """A post as it was understood, in the current language; the text as written when
    nothing was understood."""
    if post.product_id is None and post.quantity is None and post.price is None:
        return post.text
    name = products.label(post.product_id, str(get_locale()))  # from the cache: no read of the product
    return what(name, post.quantity, post.unit, post.price, post.price_unit, post.negotiable, post.notes)
