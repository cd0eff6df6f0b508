"""The public market (``/market``): open supply and demand posts for anyone, with
filters, a search and a page for each post. No log-in needed; a logged-in farmer
sees the posts nearest to their village first. Nothing here shows a phone number,
a full name or an ID number: posters are shown masked (张*) and the free text of
a post with contact numbers hidden.

Small pages with no script, readable on a 320-pixel phone, like the mailbox.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from mailbox import market, post_text, web_contacts
from mailbox.forms import printable
from mailbox.models import BUY, OPEN, SELL, Post
from ruralinfo.accounts import roles
from ruralinfo.web import page_arg

bp = Blueprint("market", __name__)


@bp.context_processor
def _helpers():
    return {"masked_name": market.masked_name, "public_text": market.public_text, "summary": summary,
            "number": post_text.number}


def summary(post: Post) -> str:
    """A post in one line, as understood (``土豆 500斤 1.2元/斤 …``), its free text
    fit for the public."""
    if post.product is None:  # unclassified: as written reads better than the figures first
        return market.public_text(post.text, post.user)
    return post_text.what(post.product.label(str(get_locale())), post.quantity, post.unit, post.price,
                          post.price_unit, post.negotiable, market.public_text(post.notes, post.user))


def _near_region() -> str | None:
    """A logged-in farmer's village: their market is ordered nearest first."""
    if current_user.is_authenticated and current_user.has_role(roles.FARMER):
        return current_user.region_code
    return None


def _filters(categories, townships) -> dict[str, str]:
    """The filters asked for that exist; anything else is dropped (the page shows all)."""
    args = request.args
    found = {}
    if args.get("kind") in (SELL, BUY):
        found["kind"] = args["kind"]
    if args.get("category") in {c.key for c in categories}:
        found["category"] = args["category"]
    product = market.product_by_code(args.get("product"))
    if product is not None and product.is_product:
        found["product"] = product.code
    if args.get("township") in {t.code for t in townships}:
        found["township"] = args["township"]
    q = " ".join((printable(args.get("q")) or "").split())[:market.MAX_QUERY]
    if q:
        found["q"] = q
    return found


@bp.get("/")
def index():
    categories, townships = market.categories(), market.townships()
    filters = _filters(categories, townships)
    near = _near_region()
    pagination = market.search(kind=filters.get("kind"), category_key=filters.get("category"),
                               product_code=filters.get("product"), township_code=filters.get("township"),
                               q=filters.get("q", ""), near_region=near,
                               page=page_arg())
    products = market.products_on_offer(filters.get("category"))
    if "product" in filters and filters["product"] not in {p.code for p in products}:
        products.insert(0, market.product_by_code(filters["product"]))
    return render_template("market/index.html", pagination=pagination, filters=filters, near=bool(near),
                           categories=categories, townships=townships, products=products,
                           places=market.places(pagination.items))


@bp.get("/posts/<int:post_id>")
def post(post_id: int):
    """One post. A closed or expired post answers 410 Gone with a page that says so and
    nothing of the post: its owner took it off the market (or let it lapse)."""
    found = market.post_or_none(post_id)
    if found is None:
        abort(404)
    if not market.is_public(found):
        expired = found.status == OPEN and market.is_expired(found)
        return render_template("market/post.html", post=found, gone=True, expired=expired), 410
    place = market.places([found]).get(found.region_code, ("", ""))
    return render_template("market/post.html", post=found, gone=False, township=place[0], village=place[1],
                           normalised=market.normalised_price(found), **_contact(found))


def _is_farmer() -> bool:
    return current_user.is_authenticated and current_user.has_role(roles.FARMER)


def _contact(post: Post) -> dict:
    """What the page offers about contact: a farmer other than the owner may ask (or
    sees that they asked); a liaison may ask for a farmer of their point."""
    if not current_user.is_authenticated:
        return {"may_ask": False, "asked": None, "on_behalf": False}
    farmer = _is_farmer() and post.user_id != current_user.id
    return {"may_ask": farmer, "asked": web_contacts.request_about(post.id, current_user) if farmer else None,
            "on_behalf": current_user.has_role(roles.LIAISON) and post.user_id != current_user.id}


@bp.post("/posts/<int:post_id>/ask")
def ask(post_id: int):
    """联系 N on the web: a logged-in farmer asks the owner of post N for contact."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.code_request", next=url_for(".post", post_id=post_id)))
    if not current_user.has_role(roles.FARMER):
        abort(403)
    try:
        asked = web_contacts.ask(post_id, user=current_user)
    except web_contacts.Refused as refused:
        flash(str(refused), "error")
    else:
        flash(web_contacts.asked_message(asked, post_id), "success")
    return redirect(url_for(".post", post_id=post_id))
