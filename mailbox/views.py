"""The farmers' pages: their letters and replies, writing to someone of their
village or to their liaison point, and their supply and demand posts.

Small pages with no script at all, readable on a 320-pixel feature-phone browser.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mailbox import services, web_contacts
from mailbox.forms import LetterForm, PostForm, printable
from mailbox.models import Letter, Post
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.audit.services import WEB
from ruralinfo.extensions import db, login_manager
from ruralinfo.web import guard_area, page_arg

bp = Blueprint("mailbox", __name__)
guard_area(bp, (roles.FARMER,))
PER_PAGE = 20
POSTS_PER_PAGE = 10  # posts are long (500 characters): a page stays well under 50 KB


@bp.record_once
def _log_in_by_code(_state) -> None:
    """Anonymous visitors of the mailbox are sent to the SMS-code log-in, not the staff one."""
    login_manager.blueprint_login_views["mailbox"] = "auth.code_request"


@bp.context_processor
def _navigation():
    return {"mailbox_unread": lambda: services.unread_count(current_user),
            "sender_label": services.sender_label}


def _page() -> int:
    return page_arg()


def _thread_or_404(letter_id: int) -> list[Letter]:
    try:
        return services.thread(letter_id, current_user)
    except services.LetterNotFound:
        abort(404)


def _villager_or_404(user_id: int) -> User:
    """Only someone ``villagers`` would offer may be written to."""
    person = db.session.get(User, user_id)
    if person is None or person.id not in {p.id for p in services.villagers(current_user, person.name, 200)}:
        abort(404)
    return person


def _show_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


# --- letters --------------------------------------------------------------------------------

@bp.get("/")
def inbox():
    pagination = db.paginate(services.inbox(current_user), page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("mailbox/inbox.html", pagination=pagination)


@bp.get("/sent")
def sent():
    pagination = db.paginate(services.sent_by(current_user), page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("mailbox/sent.html", pagination=pagination)


@bp.get("/letters/<int:letter_id>")
def letter(letter_id: int):
    """A letter with its whole thread, marked read, and a reply form."""
    letters = _thread_or_404(letter_id)
    services.mark_read(letters, current_user)
    return render_template("mailbox/letter.html", letters=letters, letter_id=letter_id, form=LetterForm())


@bp.post("/letters/<int:letter_id>/reply")
def reply(letter_id: int):
    letters = _thread_or_404(letter_id)
    form = LetterForm()
    if form.validate_on_submit():
        # answer the latest letter of the thread that came to this farmer (else the one shown)
        received = [item.id for item in letters if item.recipient_id == current_user.id]
        try:
            new = services.reply(received[-1] if received else letter_id, sender=current_user,
                                 body=form.body.data, channel=WEB)
        except services.MailboxError as err:
            _show_errors(form, err.errors)
        except services.LetterNotFound:
            flash(_l("This letter cannot be answered here. Write to your liaison point instead."), "error")
        else:
            flash(_l("Your reply is sent."), "success")
            return redirect(url_for(".letter", letter_id=new.id, _anchor=f"l{new.id}"))
    return render_template("mailbox/letter.html", letters=letters, letter_id=letter_id, form=form)


@bp.get("/write")
def write():
    """Find someone of one's village by name, or write to the liaison point."""
    name = printable(request.args.get("name"))
    found = services.villagers(current_user, name) if name is not None else None
    return render_template("mailbox/write.html", name=name or "", found=found,
                           point=services.point_of_farmer(current_user))


@bp.route("/write/to/<int:user_id>", methods=["GET", "POST"])
def write_to(user_id: int):
    recipient = _villager_or_404(user_id)
    return _compose(recipient=recipient)


@bp.route("/write/point", methods=["GET", "POST"])
def write_point():
    return _compose(point=services.point_of_farmer(current_user))


def _compose(recipient: User | None = None, point=None):
    form = LetterForm()
    if (recipient is not None or point is not None) and form.validate_on_submit():
        try:
            new = services.send_letter(sender=current_user, recipient=recipient, recipient_point=point,
                                       body=form.body.data, channel=WEB)
        except services.MailboxError as err:
            _show_errors(form, err.errors)
        else:
            flash(_l("Your letter is sent to %(name)s.", name=recipient.name if recipient else point.name),
                  "success")
            return redirect(url_for(".letter", letter_id=new.id))
    return render_template("mailbox/compose.html", form=form, recipient=recipient, point=point)


# --- posts ----------------------------------------------------------------------------------

@bp.route("/posts", methods=["GET", "POST"])
def posts():
    """One's supply and demand posts, open and closed, and a form for a new one."""
    form = PostForm()
    if form.validate_on_submit():
        try:
            post = services.create_post(current_user, form.kind.data, form.text.data, channel=WEB)
        except services.MailboxError as err:
            _show_errors(form, err.errors)
        else:
            flash(web_contacts.saved_message(post), "success")
            return redirect(url_for(".posts"))
    pagination = db.paginate(services.posts_of(current_user), page=_page(), per_page=POSTS_PER_PAGE,
                             error_out=False)
    requests = web_contacts.waiting_for(current_user)
    return render_template("mailbox/posts.html", form=form, pagination=pagination, requests=requests)


@bp.post("/requests/<int:request_id>/agree")
def agree(request_id: int):
    """同意 on the web, for one request: share names and numbers with who asked."""
    try:
        request_ = web_contacts.agree(request_id, owner=current_user)
    except web_contacts.Refused as refused:
        flash(str(refused), "error")
        return redirect(url_for(".posts"))
    flash(_l("Done: you and %(name)s get each other's phone number now. It is in the letter in your inbox.",
             name=request_.requester.name), "success")
    return redirect(url_for(".inbox"))


@bp.post("/posts/<int:post_id>/close")
def close_post(post_id: int):
    post = db.session.get(Post, post_id)
    if post is None or post.user_id != current_user.id:
        abort(404)
    services.close_post(post, actor=current_user, channel=WEB)
    flash(_l("Post no. %(n)s is closed.", n=post.id), "success")
    return redirect(url_for(".posts"))


from mailbox import notice_views  # noqa: E402,F401  (the "Notices I get" page, on this blueprint)
