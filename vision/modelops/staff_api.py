"""The staff JSON API of the model registry: /api/v1/staff/vision/models (bearer tokens).

GET  /                                   -> {"kinds": [...], "runs": [...]}      (vision.view)
GET  /runs/<id>                          -> a training run and its progress
GET  /versions/<id>                      -> a version with its metrics and curves
GET  /versions/<id>/threshold?target_precision=0.9&edit_type=  -> the chooser's answer
GET  /versions/<id>/comparison           -> champion against this shadow
POST /<kind>/train {params}              -> 202 the pending run      (vision.manage_models)
POST /versions/<id>/threshold {target_precision, edit_type?} -> 201 the saved threshold
POST /versions/<id>/promote | /shadow/start | /shadow/stop  -> the version
POST /<kind>/rollback                    -> the champion brought back

Refusals are JSON errors (404 unknown, 409 illegal transition, 422 bad input) and change
nothing: the request's unit of work rolls back on any 4xx.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from foundation import db
from foundation.errors import ValidationFailed
from foundation.staff.api_auth import staff_api_auth
from foundation.staff.permissions import Permission
from foundation.web import json_body, optional_json_body, register_json_errors
from vision.modelops import schemas, scoring, services

bp = Blueprint("staff_vision_models_api", __name__, url_prefix="/api/v1/staff/vision/models")
register_json_errors(bp)
VIEW = Permission.VISION_VIEW
MANAGE = Permission.VISION_MANAGE_MODELS


@bp.get("/")
@staff_api_auth(VIEW)
def registry():
    overview = services.registry_overview(db.session())
    return jsonify({"kinds": [schemas.kind_json(k) for k in overview.kinds],
                    "runs": [schemas.run_json(r) for r in overview.runs]})


@bp.get("/runs/<int:run_id>")
@staff_api_auth(VIEW)
def run(run_id: int):
    return jsonify({"run": schemas.run_json(services.get_run(db.session(), run_id))})


@bp.get("/versions/<int:version_id>")
@staff_api_auth(VIEW)
def version(version_id: int):
    found = services.get_version(db.session(), version_id)
    return jsonify({"version": schemas.version_json(found, full=True)})


@bp.get("/versions/<int:version_id>/threshold")
@staff_api_auth(VIEW)
def preview_threshold(version_id: int):
    choice = services.preview_threshold(db.session(), version_id,
                                        request.args.get("target_precision"),
                                        request.args.get("edit_type") or None)
    return jsonify({"choice": schemas.choice_json(choice)})


@bp.get("/versions/<int:version_id>/comparison")
@staff_api_auth(VIEW)
def comparison(version_id: int):
    return jsonify({"comparison": schemas.comparison_json(
        scoring.compare_shadow(db.session(), version_id))})


@bp.post("/<kind>/train")
@staff_api_auth(MANAGE)
def train(kind: str):
    body = json_body()
    started = services.start_training(db.session(), kind, body.get("params", {}), g.staff)
    return jsonify({"run": schemas.run_json(started)}), 202


@bp.post("/versions/<int:version_id>/threshold")
@staff_api_auth(MANAGE)
def set_threshold(version_id: int):
    body = json_body()
    edit_type = body.get("edit_type")
    if edit_type is not None and not isinstance(edit_type, str):
        raise ValidationFailed("edit_type must be a string.", code="bad_edit_type",
                               fields={"edit_type": "a string, or leave it out"})
    setting = services.set_threshold(db.session(), g.staff, version_id,
                                     body.get("target_precision"), edit_type or None)
    return jsonify({"threshold": schemas.threshold_json(setting)}), 201


def _version_action(action):
    def view(version_id: int):
        changed = action(db.session(), g.staff, version_id)
        return jsonify({"version": schemas.version_json(changed)})
    return view


@bp.post("/versions/<int:version_id>/promote")
@staff_api_auth(MANAGE)
def promote(version_id: int):
    """The body may name the champion the caller saw ({"replacing": ID or null}); left
    out, the version replaces whichever champion there is."""
    body = optional_json_body()
    replacing = body["replacing"] if "replacing" in body else services.ANY_CHAMPION
    changed = services.promote(db.session(), g.staff, version_id, replacing)
    return jsonify({"version": schemas.version_json(changed)})


for _path, _action in (("shadow/start", services.start_shadow),
                       ("shadow/stop", services.stop_shadow)):
    bp.add_url_rule(f"/versions/<int:version_id>/{_path}",
                    endpoint=_path.replace("/", "_"),
                    view_func=staff_api_auth(MANAGE)(_version_action(_action)),
                    methods=["POST"])


@bp.post("/<kind>/rollback")
@staff_api_auth(MANAGE)
def rollback(kind: str):
    champion = services.rollback(db.session(), g.staff, kind)
    return jsonify({"version": schemas.version_json(champion)})
