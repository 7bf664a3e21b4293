"""The analysts' model loop in the console: the registry of versions per kind, training
with live progress, a version's curves and threshold chooser, shadow and its comparison,
promote and rollback.

Pages need vision.view; every POST needs vision.manage_models (and the CSRF token the
console checks on every form). Each POST parses, calls one service of
vision.modelops.services (which audits), and redirects; a refusal rolls the request back
and shows the service's message, so nothing it touched is kept.
"""
from __future__ import annotations

import json

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose

from console import charts
from console.admin.base import StaffView
from console.security import current_staff
from foundation import db
from foundation.errors import DomainError, ValidationFailed
from foundation.staff.permissions import Permission
from vision.modelops import scoring, services

MAX_PARAMS_CHARS = 4000
REFRESH_SECONDS = 3


class VisionModelsView(StaffView):
    required_permission = Permission.VISION_VIEW

    # --- pages ----------------------------------------------------------------------------

    @expose("/")
    def index(self):
        registry = services.registry_overview(db.session())
        return self.render("console/vision_models.html", registry=registry,
                           refresh=REFRESH_SECONDS if registry.training else None,
                           can_manage=_can_manage(), params_json=_params_json)

    @expose("/versions/<int:version_id>")
    def version(self, version_id: int):
        target = request.args.get("target_precision", "").strip()[:20]
        edit_type = request.args.get("edit_type", "").strip()[:40] or None
        try:
            detail = services.version_detail(db.session(), version_id, target or None,
                                             edit_type)
            error = None
        except ValidationFailed as exc:  # a bad chooser input: the page, with the message
            detail = services.version_detail(db.session(), version_id)
            error = exc
        return self.render("console/vision_version.html", d=detail, error=error,
                           target=target, edit_type=edit_type or "", charts=version_charts(
                               detail.version), can_manage=_can_manage())

    @expose("/versions/<int:version_id>/comparison")
    def comparison(self, version_id: int):
        comparison = scoring.compare_shadow(db.session(), version_id)
        return self.render("console/vision_comparison.html", c=comparison,
                           chart=charts.bar_chart(
                               [(label, {"items": n}) for label, n in comparison.delta_histogram],
                               ("items",), title="Shadow minus champion score"))

    # --- actions --------------------------------------------------------------------------

    @expose("/train", methods=["POST"])
    def train(self):
        _require_manage()
        kind = request.form.get("kind", "")[:40]
        raw = request.form.get("params", "")
        try:
            run = services.start_training(db.session(), kind, _parse_params(raw),
                                          current_staff())
        except DomainError as exc:
            return self._refused(exc, ".index")
        flash(f"Training run {run.id} of {run.kind} is queued.", "success")
        return redirect(url_for(".index"))

    @expose("/versions/<int:version_id>/threshold", methods=["POST"])
    def threshold(self, version_id: int):
        _require_manage()
        edit_type = request.form.get("edit_type", "").strip()[:40] or None
        try:
            setting = services.set_threshold(db.session(), current_staff(), version_id,
                                             request.form.get("target_precision", "")[:20],
                                             edit_type)
        except DomainError as exc:
            return self._refused(exc, ".version", version_id=version_id)
        flash(f"Threshold {setting.threshold:.4f} saved for {setting.kind}"
              f"{' / ' + setting.edit_type if setting.edit_type else ''} "
              f"({setting.target}).", "success")
        return redirect(url_for(".version", version_id=version_id))

    @expose("/versions/<int:version_id>/shadow/start", methods=["POST"])
    def shadow_start(self, version_id: int):
        return self._act(services.start_shadow, version_id, "is now in shadow")

    @expose("/versions/<int:version_id>/shadow/stop", methods=["POST"])
    def shadow_stop(self, version_id: int):
        return self._act(services.stop_shadow, version_id, "left shadow")

    @expose("/versions/<int:version_id>/promote", methods=["POST"])
    def promote(self, version_id: int):
        # The page's form carries the champion the analyst saw, so that a promotion made
        # meanwhile by someone else is refused instead of being replaced unseen.
        replacing = request.form.get("replacing")
        replacing = services.ANY_CHAMPION if replacing is None else replacing[:20]

        def promote_replacing(s, by, vid):
            return services.promote(s, by, vid, replacing)
        return self._act(promote_replacing, version_id, "is the champion")

    @expose("/kinds/<kind>/rollback", methods=["POST"])
    def rollback(self, kind: str):
        _require_manage()
        back_to = request.form.get("version_id", type=int)
        try:
            version = services.rollback(db.session(), current_staff(), kind[:40])
        except DomainError as exc:
            if back_to:
                return self._refused(exc, ".version", version_id=back_to)
            return self._refused(exc, ".index")
        flash(f"Rolled back: {version.label} is the champion again.", "success")
        return redirect(url_for(".version", version_id=version.id))

    def _act(self, action, version_id: int, done: str):
        _require_manage()
        try:
            version = action(db.session(), current_staff(), version_id)
        except DomainError as exc:
            return self._refused(exc, ".version", version_id=version_id)
        flash(f"{version.label} {done}.", "success")
        return redirect(url_for(".version", version_id=version_id))

    def _refused(self, exc: DomainError, endpoint: str, **values):
        db.session().rollback()
        fields = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        flash(f"{exc.message}{' (' + fields + ')' if fields else ''} Nothing was changed.",
              "error")
        # 303: the browser follows with a GET; the refusal's status is in the message.
        return redirect(url_for(endpoint, **values), code=303)


def _can_manage() -> bool:
    staff = current_staff()
    return staff is not None and staff.can(Permission.VISION_MANAGE_MODELS)


def _require_manage() -> None:
    if not _can_manage():
        abort(403)


def _parse_params(raw: str) -> dict:
    if len(raw) > MAX_PARAMS_CHARS:
        raise ValidationFailed(f"The parameters are longer than {MAX_PARAMS_CHARS} "
                               f"characters.", code="bad_params")
    try:
        params = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"The parameters are not valid JSON: {exc.msg} at line "
                               f"{exc.lineno}, column {exc.colno}.", code="bad_params") from exc
    if not isinstance(params, dict):
        raise ValidationFailed("The parameters must be a JSON object.", code="bad_params")
    return params


def _params_json(params: dict) -> str:
    return json.dumps(params, indent=1, sort_keys=True)


def version_charts(version) -> dict:
    """The version page's SVG charts, from the evaluation stored on the version."""
    m = version.metrics
    out = {
        "pr": charts.xy_chart([("precision by recall", [(p["recall"], p["precision"])
                                                        for p in m.get("pr", [])])],
                              title="Precision-recall curve", x_label="recall",
                              y_label="precision"),
        "roc": charts.xy_chart([(f"ROC (AUC {m['auc']:.3f})" if m.get("auc") is not None
                                 else "ROC", [(p["fpr"], p["tpr"]) for p in m.get("roc", [])])],
                               title="ROC curve", x_label="false positive rate",
                               y_label="true positive rate", diagonal=True),
        "calibration": charts.xy_chart(
            [("observed rate by mean score", [(b["mean_score"], b["positive_rate"])
                                              for b in m.get("calibration", [])
                                              if b["count"]])],
            title="Reliability diagram", x_label="mean predicted probability",
            y_label="observed positive rate", diagonal=True, markers=True),
    }
    losses = version.curves.get("train_loss")
    if losses:
        out["loss"] = charts.xy_chart([("training loss", list(enumerate(losses, 1)))],
                                      title="Training loss by epoch", x_label="epoch",
                                      y_label="loss", x_range=None, y_range=None)
    return out
