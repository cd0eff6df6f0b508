"""``flask --app wsgi posts parse TEXT [--json]``: how a post's text is understood —
the tool a liaison or the bureau uses to see why a post did or did not match."""
from __future__ import annotations

import json
import re

import click
from flask.cli import AppGroup

posts_cli = AppGroup("posts", help="Supply and demand posts.")


@posts_cli.command("parse")
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def parse_command(text: tuple[str, ...], as_json: bool) -> None:
    """Show how TEXT (what follows 卖 or 买) is understood."""
    from mailbox import post_text, products

    from ruralinfo.sms import parsing

    words = parsing.normalize(" ".join(text))
    for keyword in ("卖", "买", "SELL", "BUY"):  # the whole text as sent is fine too
        rest = parsing.split_keyword(words, keyword)
        if rest is not None:
            words = rest
            break
    parsed = products.understand(words)
    product = products.by_code(parsed.product_code)
    found = {
        "text": parsed.text,
        "product": product.name_zh if product else None,
        "product_code": parsed.product_code,
        "product_word": parsed.product_word,
        "quantity": post_text.number(parsed.quantity) or None,
        "unit": parsed.unit,
        "base_quantity": post_text.number(parsed.base_quantity) or None,
        "base_unit": parsed.base_unit,
        "price": post_text.number(parsed.price) or None,
        "price_unit": parsed.price_unit,
        "price_unit_assumed": parsed.price_unit_assumed,
        "base_price": post_text.number(parsed.base_price) or None,
        "base_price_unit": parsed.base_price_unit,
        "negotiable": parsed.negotiable,
        "approximate": parsed.approximate,
        "notes": parsed.notes,
    }
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    product_line = f"{found['product']} ({found['product_code']}, from “{found['product_word']}”)" if product \
        else "not recognised: the post is kept as unclassified"
    click.echo(f"product:      {product_line}")
    if parsed.quantity is not None:
        click.echo(f"quantity:     {found['quantity']} {parsed.unit or ''}".rstrip()
                   + (f"  = {found['base_quantity']} {parsed.base_unit}" if parsed.base_unit else "")
                   + ("  (about)" if parsed.approximate else ""))
    elif parsed.unit is not None:  # 几百斤: a unit and a size, but no figure
        size = _vague_size(parsed.notes, parsed.unit)
        click.echo(f"quantity:     {size + ' ' if size else ''}{parsed.unit} (approximate, no figure)")
    else:
        click.echo("quantity:     —")
    if parsed.price is not None:
        per = parsed.price_unit or parsed.unit or ""
        assumed = "  (unit assumed from the quantity)" if parsed.price_unit_assumed else ""
        base = f"  = {found['base_price']} yuan/{parsed.base_price_unit}" if parsed.base_price is not None else ""
        click.echo(f"price:        {found['price']} yuan/{per}{base}{assumed}")
    else:
        click.echo("price:        " + ("negotiable (面议)" if parsed.negotiable else "—"))
    click.echo(f"notes:        {parsed.notes or '—'}")


def _vague_size(notes: str, unit: str) -> str:
    """The words of a size without a figure as the notes keep them (几百 of 几百斤, 上千 of
    上千斤): the first such size followed by ``unit``; "" if there is none."""
    from mailbox.lexicon import lower_latin
    from mailbox.post_numbers import numbers
    from mailbox.post_units import UNIT, UNIT_WORDS

    read = lower_latin(notes)  # offsets stay those of the notes
    unit_after = re.compile(rf"\s*(?:多|来|余)?\s*({UNIT})")
    for num in numbers(read):
        after = unit_after.match(read, num.end) if num.vague else None
        if after and UNIT_WORDS[after[1]] == unit:
            return notes[num.start:num.end]
    return ""
