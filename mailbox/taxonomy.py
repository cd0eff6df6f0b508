"""The product taxonomy as administrators edit it: add a product, add and remove
its synonyms, rename, move, merge two products, retire and reactivate. Every rule
of those changes lives here; each commits with its audit entries (before and after)
in one transaction and then rebuilds the parser's lexicon (``products.changed``).
Only administrators change the taxonomy (``NotAllowed`` otherwise); bureau staff may
look, through ``mailbox.taxonomy_queries``.

**Codes are identifiers.** They are printed in reports and exports and shown by
``posts parse``, so a product keeps its code for life, and no code is ever given
twice (a retired or merged product keeps its own). A new product gets the next
free child code of its class: an extension code as ``data/README.md`` defines
them — 90–98 under a class of the standard, 01–98 inside one of our own branches,
never 99. A **move** changes only ``parent_code`` (and the category when the new
branch is all of one category); the code then no longer spells the path, so the
tree is always read from ``parent_code``, never from code prefixes.

**Merge** (source into target): the source's posts become the target's, its words
become the target's synonyms (its English name too, so ``SELL potatoes`` still
finds it), products merged into the source earlier point to the target, and the
source is retired with ``merged_into_id``: one transaction. A merged product
stays as it is (it cannot be renamed, moved or reactivated). Once it is committed,
the moved posts that are open and published are matched as new posts are: a
``match_alerts.tell`` job each tells the owners of their best matches (now among
the target's posts too) and the target's followers — nobody twice.

**Retire**: the product keeps its posts and its words (a word names one product
only, so nobody else may take them until they are removed), but its words no
longer name a product for new posts. A class can be retired once nothing active
is under it.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from mailbox import match_alerts, product_data, products
from mailbox.models import OPEN, PUBLISHED, Follow, Post, Product, ProductCategory, ProductWord
from mailbox.post_parsing import parse
from ruralinfo.accounts import roles
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

NAME, SYNONYM, ENGLISH = "name", "synonym", "english"  # ProductWord.kind
MAX_WORD = 40  # ProductWord.word, Product.name_zh
MAX_ENGLISH = 80  # Product.name_en
MAX_CODE = 16  # Product.code
SEPARATORS = re.compile(r"[;；,，、\n\r]+")  # between the synonyms typed in one field


class TaxonomyError(FieldErrors):
    """A change to the taxonomy cannot be made as asked; ``errors`` maps field → message."""


class NotAllowed(PermissionError):
    """Only administrators change the taxonomy."""


# --- the changes ------------------------------------------------------------------------------

def add_product(parent_code: str, name_zh: str, name_en: str, unit: str, category_key: str | None,
                synonyms, *, actor, channel: str) -> Product:
    """A new product under the class ``parent_code``, with the next free (extension) code.
    ``category_key`` empty: the category of the branch it goes into."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    parent = _parent(parent_code, errors)
    zh = _checked_word(name_zh, "name_zh", errors, what=_l("Enter the Chinese name."))
    en = _checked_english(name_en, None, errors)
    words = _checked_words(synonyms, "synonyms", errors, taken={_key(zh)} if zh else set())
    if unit not in units():
        errors["unit"] = str(_l("Choose the unit farmers quote a price in."))
    category = _category_for(parent, category_key, errors) if parent is not None else None
    code = _free_code(parent, errors) if parent is not None else None
    if errors:
        raise TaxonomyError(errors)
    full, initials = product_data.pinyin(zh)
    product = Product(code=code, parent_code=parent.code, name_zh=zh, name_en=en, pinyin=full, initials=initials,
                      unit=unit, category_id=category.id, extended=True, active=True)
    product.words = [ProductWord(word=zh, kind=NAME)] + [ProductWord(word=w, kind=SYNONYM) for w in words]
    db.session.add(product)
    db.session.flush()
    audit.record("product.create", product, actor=actor, channel=channel, after=snapshot(product))
    _commit()
    return product


def add_synonyms(product: Product, words, *, actor, channel: str) -> list[str]:
    """Add words (a list, or one text separated by 、 ; , or lines) that name ``product``."""
    _require_admin(actor)
    _require_product(product)
    _require_unmerged(product)
    errors: dict[str, str] = {}
    cleaned = _checked_words(words, "words", errors, taken=set(), own=product)
    if not cleaned and not errors:
        errors["words"] = str(_l("Write the words to add, separated by 、 or ;."))
    if errors:
        raise TaxonomyError(errors)
    before = snapshot(product)
    product.words.extend(ProductWord(word=w, kind=SYNONYM) for w in cleaned)
    db.session.flush()
    audit.record("product.synonyms_add", product, actor=actor, channel=channel, before=before, after=snapshot(product))
    _commit()
    return cleaned


def remove_synonym(product: Product, word_id: int, *, actor, channel: str) -> str:
    """Remove one synonym (never the name: rename the product instead)."""
    _require_admin(actor)
    _require_unmerged(product)
    word = next((w for w in product.words if w.id == word_id), None)
    if word is None:
        raise TaxonomyError({"word": str(_l("This word is not one of the product's."))})
    if word.kind == NAME:
        raise TaxonomyError({"word": str(_l("The name cannot be removed: rename the product instead."))})
    before = snapshot(product)
    product.words.remove(word)
    db.session.flush()
    audit.record("product.synonym_remove", product, actor=actor, channel=channel, before=before,
                 after=snapshot(product))
    _commit()
    return word.word


def rename(product: Product, name_zh: str, name_en: str, *, actor, channel: str, keep_old_name: bool = True) -> bool:
    """New Chinese and English names (pinyin made again). The old Chinese name stays a
    synonym unless ``keep_old_name`` is false (a typo). False when nothing changed."""
    _require_admin(actor)
    _require_unmerged(product)
    errors: dict[str, str] = {}
    zh, en = clean(name_zh), clean(name_en)
    if not product.is_product:  # a class: its names are no product words
        if not zh or len(zh) > MAX_WORD:
            errors["name_zh"] = str(_l("Enter the Chinese name (at most %(n)s characters).", n=MAX_WORD))
        if not en or len(en) > MAX_ENGLISH:
            errors["name_en"] = str(_l("Enter the English name (at most %(n)s characters).", n=MAX_ENGLISH))
    else:
        if zh != product.name_zh:
            _checked_word(zh, "name_zh", errors, what=_l("Enter the Chinese name."), own=product)
        _checked_english(en, product, errors)
    if errors:
        raise TaxonomyError(errors)
    if (zh, en) == (product.name_zh, product.name_en):
        return False
    before = snapshot(product)
    if zh != product.name_zh:
        if product.is_product:
            _rename_word(product, zh, keep_old_name)
        product.name_zh = zh
        product.pinyin, product.initials = product_data.pinyin(zh)
    product.name_en = en
    db.session.flush()
    audit.record("product.rename", product, actor=actor, channel=channel, before=before, after=snapshot(product))
    _commit()
    return True


def move(product: Product, new_parent_code: str, *, actor, channel: str) -> None:
    """Put ``product`` (with what is under it) under another class. The code stays (it is
    an identifier); when the new branch is all of one category, the moved products take it."""
    _require_admin(actor)
    _require_unmerged(product)
    errors: dict[str, str] = {}
    parent = _parent(new_parent_code, errors)
    if parent is not None:
        if parent.code == product.parent_code:
            errors["parent_code"] = str(_l("It is already under %(name)s.", name=parent.name_zh))
        elif parent.code == product.code or product.code in _ancestors(parent):
            errors["parent_code"] = str(_l("A product cannot go under itself or under what is under it."))
    if errors:
        raise TaxonomyError(errors)
    before = snapshot(product)
    product.parent_code = parent.code
    category = _branch_category(parent)
    recategorised = []
    if category is not None:
        for row in [product, *_descendants(product)]:
            if row.category_id != category.id:
                row.category_id = category.id
                if row is not product:
                    recategorised.append(row.code)
    db.session.flush()
    audit.record("product.move", product, actor=actor, channel=channel, before=before, after=snapshot(product),
                 details={"recategorised": recategorised} if recategorised else None)
    _commit()


def merge(source: Product, target: Product, *, actor, channel: str) -> int:
    """Merge ``source`` into ``target``: its posts and words follow, it is retired. The
    number of posts moved."""
    _require_admin(actor)
    _check_merge(source, target)
    before_source, before_target = snapshot(source), snapshot(target)
    live = list(db.session.scalars(select(Post.id).where(
        Post.product_id == source.id, Post.status == OPEN, Post.moderation == PUBLISHED,
        or_(Post.expires_at.is_(None), Post.expires_at > now_utc())).order_by(Post.id)))
    moved = db.session.execute(update(Post).where(Post.product_id == source.id).values(product_id=target.id)
                               .execution_options(synchronize_session="fetch")).rowcount
    # who followed the source follows the target (once)
    following = select(Follow.user_id).where(Follow.product_id == target.id)
    db.session.execute(delete(Follow).where(Follow.product_id == source.id, Follow.user_id.in_(following))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Follow).where(Follow.product_id == source.id).values(product_id=target.id)
                       .execution_options(synchronize_session=False))
    for word in list(source.words):
        word.product = target
        word.kind = SYNONYM if word.kind == NAME else word.kind
    english = clean(source.name_en).lower()
    if (english and english != target.name_en.lower() and _word_problem(english) is None
            and _owner(english, source) is None):
        target.words.append(ProductWord(word=english, kind=ENGLISH))
    db.session.execute(update(Product).where(Product.merged_into_id == source.id)
                       .values(merged_into_id=target.id).execution_options(synchronize_session="fetch"))
    source.active, source.merged_into_id = False, target.id
    db.session.flush()
    audit.record("product.merge", source, actor=actor, channel=channel, before=before_source,
                 after=snapshot(source), details={"merged_into": target.code, "posts_moved": moved})
    audit.record("product.absorb", target, actor=actor, channel=channel, before=before_target,
                 after=snapshot(target), details={"merged_from": source.code, "posts_moved": moved})
    _commit()
    _match_again(live)
    return moved


def _match_again(post_ids: list[int]) -> None:
    """After a merge has committed: match the moved posts as new ones (a job each, run
    inline without Redis; ``tell`` tells nobody twice, so a job run again is harmless)."""
    from ruralinfo.sms import services as sms

    for post_id in post_ids:
        match_alerts.tell_later(post_id)
    sms.dispatch_pending()


def retire(product: Product, *, actor, channel: str) -> None:
    """Retire: it keeps its posts, its words no longer name a product for new posts."""
    _require_admin(actor)
    _require_unmerged(product)
    if not product.active:
        raise TaxonomyError({"product": str(_l("%(name)s is retired already.", name=product.name_zh))})
    if any(row.active for row in children(product)):
        raise TaxonomyError({"product": str(_l("Move or retire what is under %(name)s first.",
                                               name=product.name_zh))})
    _set_active(product, False, actor=actor, channel=channel)


def reactivate(product: Product, *, actor, channel: str) -> None:
    """Bring a retired product back (not a merged one: its words are the target's now)."""
    _require_admin(actor)
    _require_unmerged(product)
    if product.active:
        raise TaxonomyError({"product": str(_l("%(name)s is active.", name=product.name_zh))})
    parent = products.by_code(product.parent_code)
    if parent is not None and not parent.active:
        raise TaxonomyError({"product": str(_l("Reactivate %(name)s first.", name=parent.name_zh))})
    _set_active(product, True, actor=actor, channel=channel)


def _set_active(product: Product, active: bool, *, actor, channel: str) -> None:
    before = snapshot(product)
    product.active = active
    audit.record("product.reactivate" if active else "product.retire", product, actor=actor, channel=channel,
                 before=before, after=snapshot(product))
    _commit()


# --- rules ------------------------------------------------------------------------------------

def _require_admin(actor) -> None:
    if actor is None or not actor.has_role(roles.ADMIN):
        raise NotAllowed(str(_l("Only an administrator can change the product list.")))


def _require_product(product: Product) -> None:
    if not product.is_product:
        raise TaxonomyError({"product": str(_l("A class of the tree has no words; only its products do."))})


def _require_unmerged(product: Product) -> None:
    """A merged product stays as it was merged (its words and posts are the target's)."""
    if product.merged_into_id is not None:
        target = db.session.get(Product, product.merged_into_id)
        raise TaxonomyError({"product": str(_l("%(name)s was merged into %(target)s and cannot change.",
                                           name=product.name_zh, target=target.name_zh))})


def _check_merge(source: Product, target: Product) -> None:
    _require_unmerged(source)
    if not source.is_product or not target.is_product:
        raise TaxonomyError({"target": str(_l("Only products can be merged, not classes of the tree."))})
    if source.id == target.id:
        raise TaxonomyError({"target": str(_l("Choose another product to merge into."))})
    if not target.active:
        raise TaxonomyError({"target": str(_l("%(name)s is retired: choose an active product.",
                                              name=target.name_zh))})
    if any(row.active for row in children(source)):
        raise TaxonomyError({"target": str(_l("Move or retire what is under %(name)s first.",
                                              name=source.name_zh))})


def clean(text: str | None) -> str:
    """NFKC (full-width to half-width), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def _key(word: str) -> str:
    """How the parser compares words: Latin letters in lower case."""
    return word.lower()


def _word_problem(word: str):
    """Why ``word`` cannot name a product, or None."""
    if len(word) > MAX_WORD:
        return _l("“%(word)s” is too long: at most %(n)s characters.", word=word[:MAX_WORD], n=MAX_WORD)
    if not any(ch.isalpha() for ch in word):
        return _l("“%(word)s” has no letters: a product word names something.", word=word)
    if word.isascii() and len(word) < 2:
        return _l("“%(word)s” is too short: Latin words need two letters at least.", word=word)
    read = parse(f"1{word}", None)
    if read.unit is not None and not read.notes:
        return _l("“%(word)s” is a unit: in posts it would be read as the unit, not a product.", word=word)
    return None


def _owner(word: str, own: Product | None = None):
    """What ``word`` already names — another product (its word, English name or pinyin) or
    a category — as a message; None when it is free. ``own``'s words are no clash."""
    key = _key(word)
    found = db.session.execute(select(Product).join(ProductWord).where(func.lower(ProductWord.word) == key)
                               .limit(1)).scalar()
    if found is None and word.isascii():
        found = db.session.scalars(select(Product).where(Product.unit != "", or_(
            func.lower(Product.name_en) == key, Product.pinyin == key)).limit(1)).first()
    if found is not None and (own is None or found.id != own.id):
        return _l("“%(word)s” already names %(name)s (%(code)s).", word=word, name=found.name_zh, code=found.code)
    for category in db.session.scalars(select(ProductCategory)):
        names = {category.name_zh, category.name_en.lower(), *filter(None, category.synonyms.split(";"))}
        if key in names:
            return _l("“%(word)s” names the category %(category)s.", word=word, category=category.name_zh)
    return None


def _checked_word(raw: str, field: str, errors: dict, *, what, own: Product | None = None) -> str:
    word = clean(raw)
    problem = (what if not word else _word_problem(word)) or _owner(word, own)
    if problem is not None:
        errors[field] = str(problem)
    return word


def _checked_words(raw, field: str, errors: dict, *, taken: set[str], own: Product | None = None) -> list[str]:
    """The distinct words of ``raw`` (a text or a list), each free to use; problems in ``errors``."""
    pieces = SEPARATORS.split(raw) if isinstance(raw, str) else list(raw or [])
    words, problems = [], []
    for piece in pieces:
        word = clean(piece)
        if not word or _key(word) in taken:
            continue
        taken.add(_key(word))
        if own is not None and any(_key(w.word) == _key(word) for w in own.words):
            problems.append(_l("“%(word)s” is a word of this product already.", word=word))
            continue
        problem = _word_problem(word) or _owner(word, own)
        if problem is not None:
            problems.append(problem)
        words.append(word)
    if problems:
        errors[field] = " ".join(str(p) for p in problems)
    return words


def _checked_english(raw: str, product: Product | None, errors: dict) -> str:
    english = clean(raw)
    if not english or len(english) > MAX_ENGLISH:
        errors["name_en"] = str(_l("Enter the English name (at most %(n)s characters).", n=MAX_ENGLISH))
    elif product is None or english.lower() != product.name_en.lower():
        others = select(Product).where(Product.unit != "", func.lower(Product.name_en) == english.lower())
        if product is not None:
            others = others.where(Product.id != product.id)
        clash = db.session.scalars(others.limit(1)).first()
        problem = (_l("“%(word)s” already names %(name)s (%(code)s).", word=english, name=clash.name_zh,
                      code=clash.code) if clash is not None else _owner(english, product))
        if problem is not None:
            errors["name_en"] = str(problem)
    return english


def _parent(code: str | None, errors: dict) -> Product | None:
    """The class a product goes under: an active class of the tree (not a product)."""
    parent = products.by_code((code or "").strip())
    if parent is None:
        errors["parent_code"] = str(_l("Choose the class it goes under."))
    elif parent.is_product:
        errors["parent_code"] = str(_l("Products go under a class of the tree, not under another product."))
    elif not parent.active:
        errors["parent_code"] = str(_l("%(name)s is retired.", name=parent.name_zh))
    else:
        return parent
    return None


def _branch_category(parent: Product) -> ProductCategory | None:
    """The category of the branch: a class has one when everything under it is of it."""
    for row in [parent, *_ancestors_rows(parent)]:
        if row.category_id is not None:
            return db.session.get(ProductCategory, row.category_id)
    return None


def _category_for(parent: Product, key: str | None, errors: dict) -> ProductCategory | None:
    branch = _branch_category(parent)
    if not key:
        if branch is None:
            errors["category_key"] = str(_l("Choose a category."))
        return branch
    category = db.session.scalar(select(ProductCategory).where(ProductCategory.key == key))
    if category is None:
        errors["category_key"] = str(_l("Choose a category."))
    elif branch is not None and category.id != branch.id:
        errors["category_key"] = str(_l("Everything under %(name)s is %(category)s: choose that category, "
                                        "or another class.", name=parent.name_zh, category=branch.name_zh))
    return category


def _free_code(parent: Product, errors: dict) -> str | None:
    """The next free child code: 90–98 under a class of the standard (an extension of it),
    01–98 in our own branches; 99 is the standard's "other" and never used."""
    numbers = range(1, 99) if parent.extended else range(90, 99)
    candidates = [f"{parent.code}{n:02d}" for n in numbers]
    if len(parent.code) + 2 <= MAX_CODE:
        taken = set(db.session.scalars(select(Product.code).where(Product.code.in_(candidates))))
        free = next((code for code in candidates if code not in taken), None)
        if free is not None:
            return free
    errors["parent_code"] = str(_l("No code is free under %(name)s: choose another class.", name=parent.name_zh))
    return None


def _rename_word(product: Product, new: str, keep_old: bool) -> None:
    """The name word follows the name; the old one stays a synonym if asked."""
    current = next((w for w in product.words if w.kind == NAME), None)
    same = next((w for w in product.words if _key(w.word) == _key(new)), None)
    if same is not None:  # one of its synonyms becomes the name
        same.kind, same.word = NAME, new
    elif current is not None and not keep_old:
        current.word = new
        return
    else:
        product.words.append(ProductWord(word=new, kind=NAME))
    if current is not None and current is not same:
        if keep_old:
            current.kind = SYNONYM
        else:
            product.words.remove(current)


def _ancestors_rows(row: Product) -> list[Product]:
    found, seen = [], {row.code}
    code = row.parent_code
    while code and code not in seen:
        parent = products.by_code(code)
        if parent is None:
            break
        found.append(parent)
        seen.add(code)
        code = parent.parent_code
    return found


def _ancestors(row: Product) -> set[str]:
    return {parent.code for parent in _ancestors_rows(row)}


def _descendants(row: Product) -> list[Product]:
    """Everything under ``row`` in the tree (by ``parent_code``)."""
    found, queue = [], [row.code]
    while queue:
        below = list(db.session.scalars(select(Product).where(Product.parent_code.in_(queue))))
        found += below
        queue = [child.code for child in below]
    return found


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # another administrator took the same code or word at the same moment
        db.session.rollback()
        raise TaxonomyError({"product": str(_l("The product list changed at the same moment: try again."))}) \
            from None
    products.changed()


# --- reading ----------------------------------------------------------------------------------

def snapshot(product: Product) -> dict:
    """What the audit log keeps of a product."""
    category = db.session.get(ProductCategory, product.category_id) if product.category_id else None
    merged = db.session.get(Product, product.merged_into_id) if product.merged_into_id else None
    return {"code": product.code, "parent": product.parent_code, "name_zh": product.name_zh,
            "name_en": product.name_en, "unit": product.unit, "category": category.name_zh if category else None,
            "active": product.active, "merged_into": merged.code if merged else None,
            "synonyms": [w.word for w in product.words if w.kind != NAME]}


def children(product: Product) -> list[Product]:
    return list(db.session.scalars(select(Product).where(Product.parent_code == product.code)
                                   .order_by(Product.code)))


def units() -> list[str]:
    """The units products are quoted in (those of the shipped taxonomy)."""
    return list(db.session.scalars(select(Product.unit).where(Product.unit != "").distinct().order_by(Product.unit)))


def find(text: str, field: str = "target") -> Product:
    """The product with this code, or that this word names (a Chinese name, synonym or
    English name); a ``TaxonomyError`` on ``field`` when there is none."""
    word = clean(text)
    found = products.by_code(word) if word else None
    if found is None and word:
        found = db.session.execute(select(Product).join(ProductWord)
                                   .where(func.lower(ProductWord.word) == _key(word)).limit(1)).scalar()
    if found is None and word:
        found = db.session.scalars(select(Product).where(Product.unit != "", func.lower(Product.name_en) == _key(word))
                                   .order_by(Product.active.desc(), Product.id).limit(1)).first()
    if found is None:
        raise TaxonomyError({field: str(_l("No product has this code or name."))})
    return found
