"""The administrators' lists behind every broadcast: its topics (天气, 病虫害 …) and
the reusable notices (frost warning, pest alert, meeting notice …) the bureau starts
from. Every change is audited in its own transaction.

A topic is never deleted once something refers to it (a broadcast, a template, a
farmer who left it): it is retired, and is then no longer offered for new
broadcasts while the old ones keep it. A template is retired, never deleted.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ruralinfo.audit import services as audit
from ruralinfo.broadcasts.models import Broadcast, Template, Topic, TopicOptOut
from ruralinfo.broadcasts.services import MAX_BODY, MAX_OPTION, MAX_OPTIONS
from ruralinfo.broadcasts.texts import PLACEHOLDERS
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db

KEY = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")  # typed after STOP/START and used by the API
TOPIC_LIMITS = {"name_zh": 20, "name_en": 40}  # the columns' sizes
TEMPLATE_LIMITS = {"name_zh": 40, "name_en": 80}
BRACED = re.compile(r"\{[^{}]*\}")


class CatalogError(FieldErrors):
    """A topic or a template cannot be saved or changed as asked."""


# --- topics ----------------------------------------------------------------------------------

@dataclass
class TopicRow:
    topic: Topic
    broadcasts: int = 0
    templates: int = 0
    left_by: int = 0  # farmers who left it

    @property
    def used(self) -> bool:
        return bool(self.broadcasts or self.templates or self.left_by)


def all_topics() -> list[TopicRow]:
    """Every topic, active ones first, with what refers to it."""
    rows = {topic.id: TopicRow(topic) for topic in
            db.session.scalars(select(Topic).order_by(Topic.active.desc(), Topic.id))}
    for attr, column in (("broadcasts", Broadcast.topic_id), ("templates", Template.topic_id),
                         ("left_by", TopicOptOut.topic_id)):
        for topic_id, number in db.session.execute(select(column, func.count()).group_by(column)):
            if topic_id in rows:
                setattr(rows[topic_id], attr, number)
    return list(rows.values())


def offered_topics() -> list[Topic]:
    """The topics a new broadcast or template may have."""
    return list(db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.id)))


def topic_snapshot(topic: Topic) -> dict:
    return {"key": topic.key, "name_zh": topic.name_zh, "name_en": topic.name_en, "active": topic.active}


def create_topic(key: str, name_zh: str, name_en: str, *, actor, channel: str) -> Topic:
    """A new, active topic; its ``key`` (lowercase ASCII) is for the API and SMS and never changes."""
    errors: dict[str, str] = {}
    key = unicodedata.normalize("NFKC", key or "").strip().lower()
    if not KEY.match(key):
        errors["key"] = str(_l("A key is 2 to 32 lowercase letters a–z, digits, - or _, starting with a letter."))
    elif db.session.scalar(select(Topic.id).where(Topic.key == key)) is not None:
        errors["key"] = str(_l("There is already a topic with this key."))
    zh, en = _topic_names(name_zh, name_en, None, errors)
    if errors:
        raise CatalogError(errors)
    topic = Topic(key=key, name_zh=zh, name_en=en, active=True)
    _add(topic, "key")
    audit.record("topic.create", topic, actor=actor, channel=channel, after=topic_snapshot(topic))
    _commit("key")
    return topic


def rename_topic(topic: Topic, name_zh: str, name_en: str, *, actor, channel: str) -> None:
    errors: dict[str, str] = {}
    zh, en = _topic_names(name_zh, name_en, topic, errors)
    if errors:
        raise CatalogError(errors)
    before = topic_snapshot(topic)
    topic.name_zh, topic.name_en = zh, en
    if topic_snapshot(topic) != before:
        audit.record("topic.rename", topic, actor=actor, channel=channel, before=before, after=topic_snapshot(topic))
    _commit("name_zh")


def set_topic_active(topic: Topic, active: bool, *, actor, channel: str) -> None:
    """Retire a topic (no longer offered; broadcasts and templates keep it) or bring it back.
    The last active topic stays: every broadcast needs one."""
    if topic.active == active:
        return
    if not active and db.session.scalar(select(func.count()).select_from(Topic).where(
            Topic.active.is_(True), Topic.id != topic.id)) == 0:
        raise CatalogError({"active": str(_l("This is the last active topic: every broadcast needs one."))})
    before = topic_snapshot(topic)
    topic.active = active
    audit.record("topic.reactivate" if active else "topic.retire", topic, actor=actor, channel=channel,
                 before=before, after=topic_snapshot(topic))
    db.session.commit()


def delete_topic(topic: Topic, *, actor, channel: str) -> None:
    """Remove a topic added by mistake: only one nothing refers to."""
    row = next(row for row in all_topics() if row.topic.id == topic.id)
    if row.used:
        raise CatalogError({"topic": str(_l("This topic is in use (broadcasts, templates or farmers who left "
                                             "it): retire it instead."))})
    audit.record("topic.delete", topic, actor=actor, channel=channel, before=topic_snapshot(topic))
    db.session.delete(topic)
    db.session.commit()


def _topic_names(name_zh: str, name_en: str, topic: Topic | None, errors: dict[str, str]) -> tuple[str, str]:
    zh, en = _clean(name_zh), _clean(name_en)
    if not zh or len(zh) > TOPIC_LIMITS["name_zh"]:
        errors["name_zh"] = str(_l("Enter the Chinese name (at most %(n)s characters).", n=TOPIC_LIMITS["name_zh"]))
    if not en or len(en) > TOPIC_LIMITS["name_en"]:
        errors["name_en"] = str(_l("Enter the English name (at most %(n)s characters).", n=TOPIC_LIMITS["name_en"]))
    others = select(Topic.id).where(Topic.id != (topic.id if topic else -1))
    if zh and db.session.scalar(others.where(Topic.name_zh == zh)) is not None:
        errors["name_zh"] = str(_l("There is already a topic with this name."))
    if en and db.session.scalar(others.where(func.lower(Topic.name_en) == en.lower())) is not None:
        errors["name_en"] = str(_l("There is already a topic with this name."))
    return zh, en


# --- templates -------------------------------------------------------------------------------

@dataclass
class TemplateData:
    """What an administrator types about a template; ``reply_options`` one answer each
    (``报名|sign up`` for both languages)."""

    name_zh: str = ""
    name_en: str = ""
    topic_id: int | None = None
    body: str = ""
    body_en: str = ""
    urgent: bool = False
    reply_options: list[str] = field(default_factory=list)


def all_templates() -> list[Template]:
    return list(db.session.scalars(select(Template).order_by(Template.active.desc(), Template.id)))


def offered_templates() -> list[Template]:
    """The templates the bureau may start a notice from: active, of an active topic."""
    return list(db.session.scalars(select(Template).join(Topic, Topic.id == Template.topic_id)
                                   .where(Template.active.is_(True), Topic.active.is_(True))
                                   .order_by(Template.id)))


def template_snapshot(template: Template) -> dict:
    topic = db.session.get(Topic, template.topic_id) if template.topic_id else None
    return {"name_zh": template.name_zh, "name_en": template.name_en, "topic": topic.key if topic else None,
            "body": template.body, "body_en": template.body_en, "urgent": template.urgent,
            "reply_options": list(template.reply_options or []), "active": template.active}


def create_template(data: TemplateData, *, actor, channel: str) -> Template:
    clean = _clean_template(data, None)
    template = Template(**clean, active=True)
    _add(template, "name_zh")
    audit.record("template.create", template, actor=actor, channel=channel, after=template_snapshot(template))
    _commit("name_zh")
    return template


def update_template(template: Template, data: TemplateData, *, actor, channel: str) -> None:
    clean = _clean_template(data, template)
    before = template_snapshot(template)
    for name, value in clean.items():
        setattr(template, name, value)
    if template_snapshot(template) != before:
        audit.record("template.update", template, actor=actor, channel=channel, before=before,
                     after=template_snapshot(template))
    _commit("name_zh")


def set_template_active(template: Template, active: bool, *, actor, channel: str) -> None:
    """Retire a template (no longer offered to the bureau) or bring it back."""
    if template.active == active:
        return
    before = template_snapshot(template)
    template.active = active
    audit.record("template.reactivate" if active else "template.retire", template, actor=actor, channel=channel,
                 before=before, after=template_snapshot(template))
    db.session.commit()


def placeholder_error(text: str) -> str | None:
    """Why ``text``'s braces are wrong (None when they are right): only ``{name}`` and
    ``{village}`` are filled in for each recipient."""
    known = "、".join(PLACEHOLDERS)
    unknown = list(dict.fromkeys(found for found in BRACED.findall(text) if found not in PLACEHOLDERS))
    if unknown:
        return str(_l("%(found)s is not a placeholder. Only these are filled in: %(known)s.",
                      found="、".join(unknown), known=known))
    if "{" in BRACED.sub("", text) or "}" in BRACED.sub("", text):
        return str(_l("A brace without its pair. Placeholders are written so: %(known)s.", known=known))
    return None


def options_from_lines(text: str) -> list[str]:
    """The answers of a text box, one a line (empty lines skipped)."""
    return [line for line in (text or "").splitlines() if line.strip()]


def _clean_template(data: TemplateData, template: Template | None) -> dict:
    """The values to store, or a CatalogError with every problem at once."""
    errors: dict[str, str] = {}
    zh, en = _clean(data.name_zh), _clean(data.name_en)
    for name, value in (("name_zh", zh), ("name_en", en)):
        if not value or len(value) > TEMPLATE_LIMITS[name]:
            errors[name] = str(_l("Enter the Chinese name (at most %(n)s characters).", n=TEMPLATE_LIMITS[name])
                               if name == "name_zh" else
                               _l("Enter the English name (at most %(n)s characters).", n=TEMPLATE_LIMITS[name]))
    others = select(Template.id).where(Template.id != (template.id if template else -1))
    if zh and "name_zh" not in errors and db.session.scalar(others.where(Template.name_zh == zh)) is not None:
        errors["name_zh"] = str(_l("There is already a template with this name."))
    if en and "name_en" not in errors and db.session.scalar(
            others.where(func.lower(Template.name_en) == en.lower())) is not None:
        errors["name_en"] = str(_l("There is already a template with this name."))
    topic = db.session.get(Topic, data.topic_id) if data.topic_id else None
    keeps = template is not None and topic is not None and topic.id == template.topic_id
    if topic is None:
        errors["topic_id"] = str(_l("Choose a topic."))
    elif not topic.active and not keeps:
        errors["topic_id"] = str(_l("This topic is retired: choose an active one."))
    body, body_en = _body(data.body), _body(data.body_en)
    if not body:
        errors["body"] = str(_l("Write the notice."))
    for name, text in (("body", body), ("body_en", body_en)):
        if len(text) > MAX_BODY:
            errors[name] = str(_l("At most %(n)s characters (this one has %(count)s).", n=MAX_BODY, count=len(text)))
        elif text and (problem := placeholder_error(text)):
            errors[name] = problem
    options = [" ".join(str(option).split()) for option in data.reply_options or [] if str(option).strip()]
    if problem := _options_error(options):
        errors["reply_options"] = problem
    if errors:
        raise CatalogError(errors)
    return {"name_zh": zh, "name_en": en, "topic_id": topic.id, "body": body, "body_en": body_en,
            "urgent": bool(data.urgent), "reply_options": options}


def _options_error(options: list[str]) -> str | None:
    """The rules a broadcast's answers follow (``services.create``), so a template always makes one."""
    if len(options) > MAX_OPTIONS:
        return str(_l("At most %(n)s answers (a farmer replies with one digit).", n=MAX_OPTIONS))
    if any(len(option) > MAX_OPTION or not option.partition("|")[0].strip() for option in options):
        return str(_l("Each answer is 1 to %(n)s characters.", n=MAX_OPTION))
    if len({option.casefold() for option in options}) < len(options):
        return str(_l("Two answers are the same."))
    return None


def _clean(name: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", name or "").split())


def _body(text: str | None) -> str:
    """One line, as a broadcast's text is stored; full-width braces (typed with a Chinese
    input method) become the placeholders' own."""
    return " ".join((text or "").replace("｛", "{").replace("｝", "}").split())


def _add(row, field_name: str) -> None:
    db.session.add(row)
    _commit(field_name, db.session.flush)


def _commit(field_name: str, step=None) -> None:
    try:
        (step or db.session.commit)()
    except IntegrityError:  # someone saved the same name or key at the same moment
        db.session.rollback()
        raise CatalogError({field_name: str(_l("This name is taken."))}) from None
