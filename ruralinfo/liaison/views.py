"""The liaison console: register and look after the farmers of one's own point."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, g, jsonify, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo.accounts import importing, otp, phones, roles, tasks
from ruralinfo.accounts import services as accounts
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison import services
from ruralinfo.liaison.forms import FarmerForm, ImportForm, RegisterForm
from ruralinfo.liaison.models import PENDING, RUNNING, ImportBatch
from ruralinfo.web import add_errors, flash_errors, guard_area, int_arg, page_arg

bp = Blueprint("liaison", __name__)
guard_area(bp, (roles.LIAISON,))
PER_PAGE = 50
WAITING = _l("The import is waiting: the background service is not available right now. Your file is kept "
             "and will be imported as soon as the service is back.")


@bp.before_request
def load_point():
    g.point = services.point_of(current_user)
    g.scope = services.scope_of(current_user)


def _writable():
    """Only a liaison of an active point may change anything."""
    if g.point is None:
        abort(403)
    if g.point.is_suspended:
        flash(_l("Your liaison point is suspended: you can look, but not register or change farmers. "
                 "Ask the bureau."), "error")
        return False
    return True


def _farmer_or_404(user_id: int):
    farmer = accounts.farmer_in_scope(user_id, g.scope)
    if farmer is None:
        abort(404)
    return farmer


def _fill_choices(form: FarmerForm) -> None:
    locale = str(get_locale())
    form.region_code.choices = [(r.code, r.name) for r in services.villages_of(g.point)] if g.point else []
    form.groups.choices = [(str(gr.id), gr.label(locale)) for gr in accounts.active_groups()]


def _data(form: FarmerForm) -> accounts.FarmerData:
    return accounts.FarmerData(name=form.name.data or "", id_number=form.id_number.data or "",
                               phone=form.phone.data or "", region_code=form.region_code.data or "",
                               groups=list(form.groups.data or []), language=form.language.data or "zh")


def _show_errors(form: FarmerForm, errors: dict[str, str]) -> None:
    flash_errors(add_errors(form, errors))


@bp.get("/")
def index():
    search = request.args.get("q", "").strip()
    page = page_arg()
    stmt = accounts.farmers(g.scope, search=search)
    pagination = db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)
    return render_template("liaison/index.html", point=g.point, pagination=pagination, search=search,
                           total=accounts.count(accounts.farmers(g.scope)))


@bp.route("/farmers/new", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    _fill_choices(form)
    if form.validate_on_submit() and _writable():
        try:
            farmer = accounts.register_farmer(_data(form), actor=current_user, channel=audit.WEB,
                                              scope=g.scope, consent=bool(form.consent.data))
        except accounts.RegistrationError as err:
            _show_errors(form, err.errors)
        else:
            flash(_l("%(name)s is registered.", name=farmer.name), "success")
            return redirect(url_for(".farmer", user_id=farmer.id))
    return render_template("liaison/register.html", form=form, point=g.point)


@bp.post("/check")
def check():
    """Live checks while the form is filled in: one field at a time, by POST so
    that an ID number never appears in a URL or an access log."""
    field, value = request.form.get("field", ""), request.form.get("value", "")
    user = accounts.farmer_in_scope(int_arg(request.form, "user_id", 0), g.scope)
    cleaners = {"id_number": accounts.clean_id_number, "phone": accounts.clean_phone}
    if field not in cleaners:
        abort(400)
    try:
        clean = cleaners[field](value)
    except ValueError as err:
        return jsonify(ok=False, message=str(err))
    problems = accounts.duplicate_errors(clean if field == "phone" else None,
                                         clean if field == "id_number" else None, user)
    if problems:
        return jsonify(ok=False, message=problems[field])
    return jsonify(ok=True, message=str(_l("Looks right.")))


@bp.get("/farmers/<int:user_id>")
def farmer(user_id: int):
    return render_template("liaison/farmer.html", farmer=_farmer_or_404(user_id), point=g.point)


@bp.route("/farmers/<int:user_id>/edit", methods=["GET", "POST"])
def edit(user_id: int):
    farmer = _farmer_or_404(user_id)
    form = FarmerForm(obj=None if request.method == "POST" else farmer)
    _fill_choices(form)
    if request.method == "GET":
        form.id_number.data = ""
        form.phone.data = phones.display(farmer.phone)  # as people write it, like every page
        form.groups.data = [str(gr.id) for gr in farmer.groups]
    if form.validate_on_submit() and _writable():
        try:
            accounts.update_farmer(farmer, _data(form), actor=current_user, channel=audit.WEB, scope=g.scope)
        except accounts.RegistrationError as err:
            _show_errors(form, err.errors)
        else:
            flash(_l("Saved."), "success")
            return redirect(url_for(".farmer", user_id=farmer.id))
    return render_template("liaison/edit.html", form=form, farmer=farmer, point=g.point)


@bp.post("/farmers/<int:user_id>/verify")
def verify(user_id: int):
    farmer = _farmer_or_404(user_id)
    if _writable():
        accounts.mark_verified(farmer, actor=current_user, channel=audit.WEB)
        flash(_l("Marked as verified: ID card seen."), "success")
    return redirect(url_for(".farmer", user_id=farmer.id))


@bp.post("/farmers/<int:user_id>/active")
def set_active(user_id: int):
    farmer = _farmer_or_404(user_id)
    active = request.form.get("active") == "1"
    if _writable():
        accounts.set_active(farmer, active, actor=current_user, channel=audit.WEB)
        flash(_l("The account is active again.") if active else
              _l("The account is deactivated. It is kept for the record."), "success")
    return redirect(url_for(".farmer", user_id=farmer.id))


@bp.post("/farmers/<int:user_id>/login-code")
def login_code(user_id: int):
    """Send the farmer in front of you a web log-in code, whatever the number's limits."""
    farmer = _farmer_or_404(user_id)
    if _writable():
        try:
            sent = otp.issue_in_person(farmer, actor=current_user)
        except otp.InPersonRefused as err:
            flash(str(err), "error")
        else:
            flash(_l("A log-in code is on its way to %(phone)s. The farmer opens the log-in page, enters the "
                     "number and then the code, within %(n)s minutes.", phone=phones.display(farmer.phone),
                     n=otp.CODE_MINUTES) if sent else
                  _l("The log-in code is queued and will be sent shortly: the text service is slow right now."),
                  "success")
    return redirect(url_for(".farmer", user_id=farmer.id))


@bp.get("/farmers.csv")
def export():
    if g.point is None:
        abort(403)
    body = services.export_csv(g.scope, actor=current_user)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=farmers.csv"})


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    """Bulk registration from a spreadsheet, into this point's villages only. The
    request only keeps the file; a job imports it and the report page follows it."""
    form = ImportForm()
    if form.validate_on_submit() and _writable():
        upload = form.file.data
        try:
            batch = tasks.submit(upload.read(importing.MAX_FILE_BYTES + 1), upload.filename or "upload",
                                 actor=current_user, locale=str(get_locale()))
        except importing.ImportFileError as err:
            flash(str(err), "error")
        else:
            return redirect(url_for(".import_report", batch_id=batch.id))
    return render_template("liaison/import.html", form=form, point=g.point, limits=importing.LIMITS,
                           batches=services.recent_batches(current_user))


def _own_batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.actor_id != current_user.id:
        abort(404)
    return batch


@bp.get("/imports/<int:batch_id>")
def import_report(batch_id: int):
    batch = _own_batch(batch_id)
    response = make_response(render_template("liaison/import_report.html", batch=batch, point=g.point,
                                             waiting=WAITING))
    if batch.status in (PENDING, RUNNING):
        # Follows the job without JavaScript; slowly while the job queue is down.
        response.headers["Refresh"] = "3" if batch.queued_at or batch.status == RUNNING else "30"
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/imports/<int:batch_id>/retry")
def import_retry(batch_id: int):
    """Hand a batch that waits for the job queue to it again."""
    batch = _own_batch(batch_id)
    if batch.status == PENDING and not tasks.dispatch(batch.id):
        flash(WAITING, "warning")
    return redirect(url_for(".import_report", batch_id=batch.id))


@bp.get("/imports/<int:batch_id>/rejected.csv")
def import_rejects(batch_id: int):
    """The rejected rows with their reasons: only for the liaison who uploaded them."""
    batch = _own_batch(batch_id)
    body = services.rejected_rows(batch)
    if body is None:
        abort(404)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=rejected-{batch.id}.csv", "Cache-Control": "no-store"})
