"""Request schemas and JSON shapes for members."""
from __future__ import annotations

from marketplace_core.members.models import Member

REGISTER = {
    "type": "object",
    "required": ["email", "username", "password"],
    "properties": {
        "email": {"type": "string", "maxLength": 254, "minLength": 3},
        "username": {"type": "string", "maxLength": 30, "minLength": 3},
        "password": {"type": "string", "maxLength": 256, "minLength": 1, "trim": False},
        "display_name": {"type": "string", "maxLength": 80},
        "city": {"type": "string", "maxLength": 80},
    },
}

SIGN_IN = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {
        "email": {"type": "string", "maxLength": 254, "minLength": 1},
        "password": {"type": "string", "maxLength": 256, "minLength": 1, "trim": False},
    },
}

PROFILE = {
    "type": "object",
    "properties": {
        "display_name": {"type": "string", "maxLength": 80, "minLength": 1},
        "bio": {"type": "string", "maxLength": 2000},
        "city": {"type": "string", "maxLength": 80},
    },
}


def member_public(member: Member) -> dict:
    return {"id": member.id, "username": member.username,
            "display_name": member.display_name, "city": member.city,
            "joined_at": member.created_at.isoformat()}


def member_private(member: Member) -> dict:
    return {**member_public(member), "email": member.email, "bio": member.bio,
            "selling_restricted": member.selling_restricted}
