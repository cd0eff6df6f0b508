"""What the audit log's codes mean, in the reader's language.

Entries store stable codes (``farmer.register``, ``web``, ``users``, ``phone``),
and some stored values are codes too (roles, a point's status, a letter's kind);
the admin view shows these labels. A code missing here is shown as it is.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ruralinfo.accounts import roles

ACTIONS = {
    "login": _l("Logged in"),
    "logout": _l("Logged out (every session ended)"),
    "dev.phone.drive": _l("Used a simulated phone (acting as its owner)"),
    "dev.phone.send": _l("Sent a text from a simulated phone"),
    "dev.call.drive": _l("Used the call simulator (acting as its caller)"),
    "dev.call.start": _l("Called the hotline from the call simulator"),
    "dev.call.record": _l("Left a recording from the call simulator"),
    "login.locked": _l("Account locked after wrong passwords"),
    "login.code_sent": _l("Log-in code sent"),
    "login.code_issued": _l("Log-in code sent by the liaison point in person"),
    "login.code_exhausted": _l("Log-in code used up by wrong attempts"),
    "login.code": _l("Logged in with an SMS code"),
    "farmer.register": _l("Farmer registered"),
    "farmer.update": _l("Farmer changed"),
    "farmer.verify": _l("ID card seen"),
    "farmers.export": _l("Farmer list downloaded"),
    "farmers.import": _l("Spreadsheet imported"),
    "account.deactivate": _l("Account deactivated"),
    "account.reactivate": _l("Account reactivated"),
    "account.roles": _l("Roles changed"),
    "account.password": _l("Password set"),
    "staff.create": _l("Staff account created"),
    "point.create": _l("Liaison point created"),
    "point.update": _l("Liaison point changed"),
    "point.suspend": _l("Liaison point suspended"),
    "point.reactivate": _l("Liaison point reactivated"),
    "point.liaison_assign": _l("Liaison assigned"),
    "point.liaison_remove": _l("Liaison removed"),
    "point.liaison_create": _l("Liaison account created"),
    "group.create": _l("Interest group added"),
    "group.rename": _l("Interest group renamed"),
    "group.deactivate": _l("Interest group deactivated"),
    "group.reactivate": _l("Interest group reactivated"),
    "topic.create": _l("Broadcast topic added"),
    "topic.rename": _l("Broadcast topic renamed"),
    "topic.retire": _l("Broadcast topic retired"),
    "topic.reactivate": _l("Broadcast topic reactivated"),
    "topic.delete": _l("Broadcast topic deleted"),
    "topic.leave": _l("Left a topic of notices"),
    "topic.join": _l("Joined a topic of notices again"),
    "template.create": _l("Notice template added"),
    "template.update": _l("Notice template changed"),
    "template.retire": _l("Notice template retired"),
    "template.reactivate": _l("Notice template reactivated"),
    "regions.load": _l("Villages loaded"),
    "letter.send": _l("Letter sent"),
    "post.create": _l("Post published"),
    "post.close": _l("Post closed"),
    "post.approve": _l("Post published after review"),
    "post.classify": _l("Post classified"),
    "post.reject": _l("Post rejected"),
    "post.hide": _l("Post taken out of the market"),
    "post.deal": _l("Deal reported"),
    "post.renew": _l("Post renewed"),
    "contact.ask": _l("Contact asked for"),
    "contact.agree": _l("Contact agreed"),
    "contact.ask_for": _l("Contact asked for on a farmer's behalf"),
    "text.answer": _l("Text answered by the bureau"),
    "text.forward": _l("Text passed to a liaison point"),
    "letter.answer": _l("Letter answered by the bureau"),
    "broadcast.create": _l("Broadcast written"),
    "broadcast.submit": _l("Broadcast submitted (recipients planned)"),
    "broadcast.approve": _l("Broadcast approved"),
    "broadcast.pause": _l("Broadcast paused"),
    "broadcast.resume": _l("Broadcast resumed"),
    "broadcast.cancel": _l("Broadcast cancelled"),
    "broadcast.retry": _l("Failed broadcast texts sent again"),
    "broadcast.reply": _l("Answered a sign-up"),
    "broadcast.remind": _l("Reminder sent to those who had not answered"),
    "api_token.create": _l("API token created"),
    "api_token.revoke": _l("API token revoked"),
    "letter.close": _l("Letter closed without an answer"),
    "product.create": _l("Product added"),
    "product.synonyms_add": _l("Product synonyms added"),
    "product.synonym_remove": _l("Product synonym removed"),
    "product.rename": _l("Product renamed"),
    "product.move": _l("Product moved"),
    "product.merge": _l("Product merged into another"),
    "product.absorb": _l("Another product merged into this one"),
    "product.retire": _l("Product retired"),
    "product.reactivate": _l("Product reactivated"),
    "sms.opt_out": _l("Opted out of SMS notices"),
    "sms.opt_in": _l("Opted in to SMS notices"),
    "sms.handle_again": _l("Received text handled again"),
    "question.ask": _l("Question asked"),
    "question.claim": _l("Question taken by an expert"),
    "question.release": _l("Question given back to the queue"),
    "question.transfer": _l("Question moved to another topic"),
    "question.answer": _l("Question answered"),
    "question.rate": _l("Answer rated by the farmer"),
    "answer.publish": _l("Answer published for everyone"),
    "answer.withdraw": _l("Published answer withdrawn"),
    "menu.publish": _l("Hotline menu published"),
    "menu.restore": _l("Earlier hotline menu restored"),
    "roster.change": _l("Duty roster changed"),
    "call.callback": _l("Farmer called back by an expert"),
}
CHANNELS = {
    "web": _l("web"), "cli": _l("command line"), "sms": _l("SMS"), "voice": _l("voice"), "api": _l("API"),
    "import": _l("import"), "system": _l("system"), "hotline": _l("hotline"),
}
TARGETS = {
    "users": _l("Account"), "liaison_points": _l("Liaison point"), "interest_groups": _l("Interest group"),
    "import_batches": _l("Import"), "regions": _l("Regions"), "letters": _l("Letter"),
    "posts": _l("Supply or demand post"),
    "products": _l("Product"),
    "broadcasts": _l("Broadcast"), "api_tokens": _l("API token"), "broadcast_topics": _l("Broadcast topic"),
    "broadcast_templates": _l("Notice template"),
    "sms_inbox": _l("Received text"),
    "jobs": _l("Job"),
    "hotline_questions": _l("Question to the experts"), "hotline_published_answers": _l("Published answer"),
    "hotline_menu_versions": _l("Hotline menu"), "hotline_duty_shifts": _l("Duty roster"),
    "hotline_calls": _l("Call"),
}
FIELDS = {
    "name": _l("name"), "phone": _l("mobile number"), "region": _l("village"), "id": _l("ID number (masked)"),
    "groups": _l("interest groups"), "language": _l("language"), "active": _l("active"),
    "verified": _l("verified"), "roles": _l("roles"), "liaison_point": _l("liaison point"),
    "address": _l("address"), "opening_hours": _l("opening hours"), "status": _l("status"),
    "regions": _l("villages"), "liaisons": _l("liaisons"), "name_zh": _l("Chinese name"),
    "name_en": _l("English name"), "kind": _l("kind"), "rows": _l("rows"), "file": _l("file"),
    "added": _l("added"), "renamed": _l("renamed"), "registered": _l("registered"),
    "skipped": _l("skipped"), "rejected": _l("rejected"), "batch": _l("import"),
    "to_user": _l("to account"), "to_point": _l("to liaison point"), "user_id": _l("account"),
    "from_point": _l("from liaison point"), "filename": _l("file name"),
    "text": _l("received text no."), "letter": _l("letter no."), "point": _l("liaison point"),
    "reason": _l("reason"),
    "code": _l("code"), "parent": _l("under"), "unit": _l("unit"), "category": _l("category"),
    "synonyms": _l("synonyms"), "merged_into": _l("merged into"), "merged_from": _l("merged from"),
    "posts_moved": _l("posts moved"), "recategorised": _l("also recategorised"),
    "key": _l("key"), "topic": _l("topic"), "body": _l("notice"), "body_en": _l("notice in English"),
    "urgent": _l("urgent"), "reply_options": _l("answers offered"),
    "recipients": _l("recipients"), "texts": _l("texts"), "choice": _l("answer no."), "free": _l("free answer"),
    "reminder": _l("reminder no."), "phones": _l("phone numbers"), "prefix": _l("beginning"),
    "previous": _l("previous version"), "removed": _l("removed"), "changed": _l("changed"),
    "draft": _l("draft no."), "rating": _l("rating"), "question": _l("question no."),
    "call": _l("call no."), "recording": _l("recording no."),
}
# Coded values, by the field they are stored under. Names, numbers, phone numbers and
# region codes are data and are shown as they are.
VALUES = {
    "roles": roles.LABELS,
    "status": {"active": _l("Active"), "suspended": _l("Suspended")},  # a liaison point's
    "language": {"zh": "中文", "en": "English"},  # a language is named in itself, as in the language switch
    "kind": {  # a letter's (mailbox.models) or a post's
        "personal": _l("personal letter"), "point": _l("from a liaison point"), "bureau": _l("from the bureau"),
        "match": _l("supply and demand match"), "answer": _l("expert's answer"), "system": _l("System notice"),
        "sell": _l("Sell"), "buy": _l("Buy"),
    },
}


def label(table: dict, code) -> str:
    found = table.get(code)
    return str(found) if found is not None else str(code)


def value(code, field) -> str:
    """A stored value of ``field``: its label when it is a code, else as it is."""
    return label(VALUES.get(field, {}), code)


def init_app(app: Flask) -> None:
    app.add_template_filter(lambda code: label(ACTIONS, code), "audit_action")
    app.add_template_filter(lambda code: label(CHANNELS, code), "audit_channel")
    app.add_template_filter(lambda code: label(TARGETS, code), "audit_target")
    app.add_template_filter(lambda code: label(FIELDS, code), "audit_field")
    app.add_template_filter(value, "audit_value")
