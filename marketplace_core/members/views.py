"""Member API: sign-up, tokens, profiles, closets and follows."""
from __future__ import annotations

from flask import jsonify

from foundation import db
from foundation.schema import validate
from foundation.web import bearer_token, json_body
from marketplace_core.api import api_route, current_member
from marketplace_core.members import schemas, services

TAG = "Members"


@api_route("/auth/register", "POST", summary="Sign up; returns the member and a token",
           tag=TAG, auth="none", body=schemas.REGISTER,
           responses={201: "registered", 409: "email or username taken"})
def register():
    data = validate(schemas.REGISTER, json_body())
    s = db.session()
    member = services.register(s, **data)
    token = services.issue_token(s, member)
    return jsonify({"user": schemas.member_private(member), "token": token}), 201


@api_route("/auth/token", "POST", summary="Sign in; returns a bearer token", tag=TAG,
           auth="none", body=schemas.SIGN_IN, responses={200: "token", 401: "wrong details"})
def token():
    data = validate(schemas.SIGN_IN, json_body())
    s = db.session()
    member = services.sign_in(s, data["email"], data["password"])
    return jsonify({"token": services.issue_token(s, member), "token_type": "Bearer"})


@api_route("/auth/token", "DELETE", summary="Sign out (revoke this token)", tag=TAG)
def revoke():
    services.revoke_token(db.session(), bearer_token())
    return "", 204


@api_route("/me", "GET", summary="The signed-in member", tag=TAG)
def me():
    return jsonify({"user": schemas.member_private(current_member())})


@api_route("/me", "PATCH", summary="Edit your profile", tag=TAG, body=schemas.PROFILE)
def edit_me():
    data = validate(schemas.PROFILE, json_body(), partial=True)
    member = services.update_profile(db.session(), current_member(), data)
    return jsonify({"user": schemas.member_private(member)})


@api_route("/closets/<username>", "GET", summary="A closet: profile and counts", tag=TAG,
           auth="optional")
def closet(username: str):
    s = db.session()
    member = services.get_by_username(s, username)
    followers, following = services.follow_counts(s, member.id)
    return jsonify({"closet": {**schemas.member_public(member), "followers": followers,
                               "following": following}})


@api_route("/closets/<username>/follow", "POST", summary="Follow a closet", tag=TAG)
def follow(username: str):
    s = db.session()
    services.follow(s, current_member(), services.get_by_username(s, username))
    return jsonify({"following": True})


@api_route("/closets/<username>/follow", "DELETE", summary="Unfollow a closet", tag=TAG)
def unfollow(username: str):
    s = db.session()
    services.unfollow(s, current_member(), services.get_by_username(s, username))
    return jsonify({"following": False})
