"""Staff sign-in (password, then TOTP where set up), sign-out."""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from console.forms import ConfirmForm, SignInForm, TotpForm
from console.security import SESSION_KEY, current_staff, login_rate_limited, safe_next, settings
from foundation import clock, db
from foundation.staff import services as staff_services

bp = Blueprint("auth", __name__, url_prefix="/console/auth")
PENDING_KEY = "pending_totp"
PENDING_SECONDS = 300
MESSAGES = {
    "bad_credentials": "That email and password do not match an active account.",
    "locked": "Too many failed attempts: this account is locked for a while.",
    "totp_invalid": "That code is not right.",
    "rate_limited": "Too many attempts from your address; wait a minute.",
}


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_staff() is not None:
        return redirect(url_for("admin.index"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        if login_rate_limited("console"):
            flash(MESSAGES["rate_limited"], "danger")
            return render_template("console/sign_in.html", form=form), 429
        s = db.session()
        result = staff_services.sign_in(s, settings(), form.email.data, form.password.data)
        if result.error == "totp_required":
            session[PENDING_KEY] = {"staff_id": result.staff.id,
                                    "at": int(clock.now().timestamp()),
                                    "next": safe_next(request.args.get("next"), "")}
            return redirect(url_for("auth.totp"))
        if result.ok:
            return _start_session(result.staff, request.args.get("next"))
        s.commit()  # keep the failure count even though the attempt fails
        flash(MESSAGES.get(result.error, MESSAGES["bad_credentials"]), "danger")
        status = 401
    return render_template("console/sign_in.html", form=form), status


@bp.route("/totp", methods=["GET", "POST"])
def totp():
    pending = session.get(PENDING_KEY)
    if not pending or clock.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash("Sign in again.", "warning")
        return redirect(url_for("auth.sign_in"))
    form = TotpForm()
    status = 200
    if form.validate_on_submit():
        if login_rate_limited("console-totp"):
            flash(MESSAGES["rate_limited"], "danger")
            return render_template("console/totp.html", form=form), 429
        s = db.session()
        staff = s.get(staff_services.StaffUser, pending["staff_id"])
        result = staff_services.complete_second_factor(s, settings(), staff, form.code.data)
        if result.ok:
            session.pop(PENDING_KEY, None)
            return _start_session(result.staff, pending.get("next"))
        s.commit()
        flash(MESSAGES.get(result.error, MESSAGES["totp_invalid"]), "danger")
        status = 401
    return render_template("console/totp.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    form = ConfirmForm()
    if form.validate_on_submit():
        staff_services.end_session(db.session(), session.get(SESSION_KEY))
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


def _start_session(staff, next_url: str | None):
    raw = staff_services.start_session(db.session(), settings(), staff, "web",
                                       ip=request.remote_addr,
                                       user_agent=request.headers.get("User-Agent"))
    session.clear()  # a fresh session on privilege change (no fixation)
    session[SESSION_KEY] = raw
    session.permanent = False
    current_app.logger.info("staff %s signed in", staff.id)
    return redirect(safe_next(next_url, url_for("admin.index")))
