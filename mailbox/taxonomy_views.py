"""The product taxonomy in the admin view: the products by category (searchable), a
product's page, and the administrators' changes (``mailbox.taxonomy`` holds the rules).

A blueprint of the mailbox package mounted under ``/admin/products``: the core's admin
view never imports the mailbox; its nav shows the link when this blueprint is there.
Everyone in the admin view may look; a POST by anyone but an administrator is refused
with 403. Every action URL also answers GET by leading to the product's page, so that a
reloaded or bookmarked action URL lands on the form rather than an error.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from mailbox import products, taxonomy
from mailbox import taxonomy_queries as queries
from mailbox.models import Product
from ruralinfo.accounts import roles
from ruralinfo.audit.services import WEB
from ruralinfo.extensions import db
from ruralinfo.web import add_errors, flash_errors, guard_area

bp = Blueprint("admin_products", __name__)
guard_area(bp, roles.ADMIN_VIEW)
EDITORS = (roles.ADMIN,)


@bp.before_request
def _only_administrators_change():
    if request.method == "POST" and not current_user.has_role(*EDITORS):
        abort(403)


@bp.errorhandler(taxonomy.NotAllowed)
def _not_allowed(err):
    db.session.rollback()
    return render_template("error.html", code=403, message=str(err)), 403


@bp.context_processor
def _inject():
    return {"admin_section": "products", "can_edit_products": current_user.has_role(*EDITORS)}


# --- forms ----------------------------------------------------------------------------------

class ProductForm(FlaskForm):
    """A new product. Choices are filled by the view; the service checks every value."""

    parent_code = SelectField(_l("Goes under"), validate_choice=False)
    name_zh = StringField(_l("Chinese name"), validators=[Length(max=taxonomy.MAX_WORD)],
                          render_kw={"maxlength": taxonomy.MAX_WORD})
    name_en = StringField(_l("English name"), validators=[Length(max=taxonomy.MAX_ENGLISH)],
                          render_kw={"maxlength": taxonomy.MAX_ENGLISH})
    unit = SelectField(_l("Usual unit"), validate_choice=False)
    category_key = SelectField(_l("Category"), validate_choice=False)
    synonyms = TextAreaField(_l("Synonyms and local names"), validators=[Length(max=1000)], render_kw={"rows": 2})


class RenameForm(FlaskForm):
    name_zh = StringField(_l("Chinese name"), validators=[Length(max=taxonomy.MAX_WORD)],
                          render_kw={"maxlength": taxonomy.MAX_WORD})
    name_en = StringField(_l("English name"), validators=[Length(max=taxonomy.MAX_ENGLISH)],
                          render_kw={"maxlength": taxonomy.MAX_ENGLISH})
    keep_old_name = BooleanField(_l("Keep the old Chinese name as a synonym"), default=True)


class SynonymsForm(FlaskForm):
    words = StringField(_l("New synonyms"), validators=[Length(max=1000)])


class MoveForm(FlaskForm):
    parent_code = SelectField(_l("Move under"), validate_choice=False)


class MergeForm(FlaskForm):
    target = StringField(_l("Merge into"), validators=[Length(max=80)])


def _class_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(row.code, f"{row.code} {row.name_zh}") for row in queries.classes()]


def _product_form(parent: str = "") -> ProductForm:
    form = ProductForm()
    form.parent_code.choices = _class_choices()
    form.unit.choices = [("", "—")] + [(unit, unit) for unit in taxonomy.units()]
    form.category_key.choices = [("", str(_l("As the class it goes under")))] + [
        (c.key, f"{c.name_zh} · {c.name_en}") for c in queries.categories()]
    if request.method == "GET" and parent:
        form.parent_code.data = parent
    return form


# --- pages ----------------------------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
def index():
    """Products by category (those ``q`` finds), the classes of the tree, and a new product."""
    form = _product_form(request.args.get("parent", ""))
    if request.method == "POST" and form.validate_on_submit():
        try:
            product = taxonomy.add_product(form.parent_code.data, form.name_zh.data, form.name_en.data,
                                           form.unit.data, form.category_key.data, form.synonyms.data,
                                           actor=current_user, channel=WEB)
        except taxonomy.TaxonomyError as err:
            flash_errors(add_errors(form, err.errors))
        else:
            flash(_l("%(name)s added with the code %(code)s.", name=product.name_zh, code=product.code), "info")
            return redirect(url_for(".product", product_id=product.id))
    query = (request.args.get("q") or "").strip()[:80]
    groups, classes = queries.listing(query)
    return render_template("admin/products.html", form=form, query=query, groups=groups, classes=classes,
                           counts=queries.post_counts(), names=queries.names(),
                           found=sum(len(rows) for _category, rows in groups),
                           adding=request.method == "POST" or bool(request.args.get("parent")))


@bp.get("/<int:product_id>")
def product(product_id: int):
    return _page(_get(product_id))


def _get(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


def _page(product: Product, **forms):
    """The product's page, with the forms given (those that failed) or fresh ones."""
    rename = forms.get("rename") or RenameForm(formdata=None, name_zh=product.name_zh, name_en=product.name_en)
    move = forms.get("move") or MoveForm(formdata=None, parent_code=product.parent_code)
    move.parent_code.choices = _class_choices()
    total, open_ = queries.post_counts(product).get(product.id, (0, 0))
    merged_into = db.session.get(Product, product.merged_into_id) if product.merged_into_id else None
    return render_template("admin/product.html", product=product, rename_form=rename, move_form=move,
                           synonyms_form=forms.get("synonyms") or SynonymsForm(formdata=None),
                           merge_form=forms.get("merge") or MergeForm(formdata=None),
                           posts=total, open_posts=open_, parent=products.by_code(product.parent_code),
                           children=taxonomy.children(product), merged_into=merged_into,
                           merged_from=queries.merged_into(product), entries=queries.history(product),
                           category=product.category)


def action(rule: str, anchor: str):
    """An administrator's change on a product: POST does it, GET leads to the form."""
    def register(view):
        @wraps(view)
        def run(product_id: int, **kwargs):
            if request.method == "GET":
                return redirect(url_for(".product", product_id=product_id, _anchor=anchor))
            return view(_get(product_id), **kwargs)
        bp.add_url_rule(f"/<int:product_id>/{rule}", view.__name__, run, methods=["GET", "POST"])
        return run
    return register


def _done(product: Product, message, anchor: str = ""):
    flash(message, "info")
    return redirect(url_for(".product", product_id=product.id, _anchor=anchor or None))


@action("rename", "rename")
def rename(product: Product):
    form = RenameForm()
    if form.validate_on_submit():
        try:
            changed = taxonomy.rename(product, form.name_zh.data, form.name_en.data, actor=current_user,
                                      channel=WEB, keep_old_name=form.keep_old_name.data)
        except taxonomy.TaxonomyError as err:
            flash_errors(add_errors(form, err.errors))
        else:
            return _done(product, _l("Saved.") if changed else _l("Nothing changed."))
    return _page(product, rename=form)


@action("synonyms", "words")
def add_synonyms(product: Product):
    form = SynonymsForm()
    if form.validate_on_submit():
        try:
            added = taxonomy.add_synonyms(product, form.words.data, actor=current_user, channel=WEB)
        except taxonomy.TaxonomyError as err:
            flash_errors(add_errors(form, err.errors))
        else:
            return _done(product, _l("Added: %(words)s.", words="、".join(added)), "words")
    return _page(product, synonyms=form)


@action("synonyms/<int:word_id>/remove", "words")
def remove_synonym(product: Product, word_id: int):
    try:
        word = taxonomy.remove_synonym(product, word_id, actor=current_user, channel=WEB)
    except taxonomy.TaxonomyError as err:
        flash_errors(err.errors.values())
        return redirect(url_for(".product", product_id=product.id, _anchor="words"))
    return _done(product, _l("“%(word)s” no longer names %(name)s.", word=word, name=product.name_zh), "words")


@action("move", "move")
def move(product: Product):
    form = MoveForm()
    form.parent_code.choices = _class_choices()
    if form.validate_on_submit():
        try:
            taxonomy.move(product, form.parent_code.data, actor=current_user, channel=WEB)
        except taxonomy.TaxonomyError as err:
            flash_errors(add_errors(form, err.errors))
        else:
            return _done(product, _l("Moved; the code %(code)s stays.", code=product.code))
    return _page(product, move=form)


@action("merge", "merge")
def merge(product: Product):
    form = MergeForm()
    if form.validate_on_submit():
        try:
            target = taxonomy.find(form.target.data)
            moved = taxonomy.merge(product, target, actor=current_user, channel=WEB)
        except taxonomy.TaxonomyError as err:
            flash_errors(add_errors(form, err.errors))
        else:
            return _done(target, ngettext("%(source)s merged into %(target)s: %(num)s post moved.",
                                          "%(source)s merged into %(target)s: %(num)s posts moved.", moved,
                                          source=product.name_zh, target=target.name_zh))
    return _page(product, merge=form)


@action("retire", "status")
def retire(product: Product):
    if _changed(taxonomy.retire, product):
        flash(_l("%(name)s retired.", name=product.name_zh), "info")
    return redirect(url_for(".product", product_id=product.id))


@action("reactivate", "status")
def reactivate(product: Product):
    if _changed(taxonomy.reactivate, product):
        flash(_l("%(name)s reactivated.", name=product.name_zh), "info")
    return redirect(url_for(".product", product_id=product.id))


def _changed(change, product: Product) -> bool:
    try:
        change(product, actor=current_user, channel=WEB)
    except taxonomy.TaxonomyError as err:
        flash_errors(err.errors.values())
        return False
    return True
