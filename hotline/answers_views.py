"""The public answers page at ``/answers``: what the experts published for everyone,
searched over question and answer (Chinese and English) and by topic. No log-in."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale

from hotline import answers, topics
from ruralinfo.extensions import db
from ruralinfo.web import page_arg

bp = Blueprint("answers", __name__)
PER_PAGE = 20
MAX_QUERY = 100


@bp.context_processor
def _helpers():
    language = "en" if str(get_locale()) == "en" else "zh"
    return {"topic_label": topics.label, "topic_choices": topics.choices(), "language": language}


@bp.get("/")
def index():
    q = " ".join((request.args.get("q") or "").split())[:MAX_QUERY]
    topic = request.args.get("topic") if request.args.get("topic") in topics.TOPICS else None
    pagination = db.paginate(answers.search(q, topic), page=page_arg(),
                             per_page=PER_PAGE, error_out=False)
    return render_template("hotline/answers.html", pagination=pagination, q=q, topic=topic)


@bp.get("/<int:answer_id>")
def answer(answer_id: int):
    found = answers.shown(answer_id)
    if found is None:
        abort(404)
    return render_template("hotline/answer.html", answer=found)
