"""The authentication queue's casework (foundation.casework): every state change of a
request goes through `try_transition`, so two reviewers (or a reviewer and a timer)
racing on one request cannot both move it, and each move writes a RequestEvent.

The SLA clock runs in active time with this queue's budget; the steps that wait for the
seller pause it and note when (`paused_at`), the seller's photos resume it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from authentication.models import CLOSED_STATES, AuthenticationRequest, RequestEvent
from foundation.casework import Casework
from foundation.config import current as settings

CASEWORK = Casework(model=AuthenticationRequest, events=RequestEvent, event_key="request_id",
                    closed_states=CLOSED_STATES, noun="request",
                    sla_hours=lambda: settings().AUTHENTICATION_SLA_HOURS)

try_transition = CASEWORK.try_transition
log = CASEWORK.log
seconds_left = CASEWORK.seconds_left


def clock_started(now: datetime) -> dict[str, Any]:
    return {**CASEWORK.clock_started(now), "paused_at": None}


def clock_paused(request: AuthenticationRequest, now: datetime) -> dict[str, Any]:
    return {**CASEWORK.clock_paused(request, now), "paused_at": now}


def clock_resumed(request: AuthenticationRequest, now: datetime) -> dict[str, Any]:
    return {**CASEWORK.clock_resumed(request, now), "paused_at": None}
