"""Exclusive claims under a lease: the one mechanism every staff review queue uses.

A queue is a table whose rows wait in some states; a staff member claims the best row
they may take, which moves it to the queue's "claimed" state (remembering the state it
came from in `claimed_from`) with a random lease token and an expiry.  Only the holder,
showing the token before the lease expires, may act on the row; a lapsed lease lets
anyone allowed take the row over; release puts it back where it came from.

Exclusivity comes from the queue's own guarded transition (a conditional UPDATE on
id, state and version, see foundation.casework): two staff racing for one row cannot
both move it.  Which rows are candidates is up to the queue (its routing conditions and
ordering); this module adds what every queue shares:

- waiting rows first, then rows whose lease has lapsed, as two separate walks: one query
  with an OR of the two would make PostgreSQL sort the whole queue on every claim;
- on PostgreSQL the candidate is read FOR UPDATE SKIP LOCKED, so that concurrent staff
  fan out over different rows instead of all racing for the first; SQLite ignores FOR
  UPDATE (it serialises writers), so there a few candidates are read per round and a
  lost race just moves on to the next;
- a per-staff limit on live claims, counted and claimed under a lock on the staff
  member's own row (so parallel claims by one reviewer never pass the limit together),
  the lease token check (409 `stale_lease`), moves
  made under the lease, extend, release, and skip (release, and keep the row away from
  that staff member a while);
- the audit record of each of these, in the same transaction.

A queue declares itself once, as a `Leases` value, e.g. in authentication.claims:

    LEASES = Leases(model=AuthenticationRequest, claimed_state=RequestState.CLAIMED,
                    transition=machine.try_transition, lease_minutes=..., max_claims=...,
                    audit_prefix="authentication", object_type="authentication_request",
                    skips=SkipTable(RequestSkip, minutes=...))
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ForeignKey, String, and_, exists, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation import casework, clock
from foundation.audit.services import record
from foundation.db import UTCDateTime
from foundation.errors import Conflict
from foundation.staff.models import StaffUser

CANDIDATES_PER_ROUND = 10   # SQLite: candidates read per round (PostgreSQL locks one)
ROUNDS = 5                  # rounds per walk before giving up (every candidate was lost)
TOKEN_BYTES = 24            # secrets.token_urlsafe(24): 32 characters


class LeaseColumns:
    """The claim columns, for a model that is a leased queue (declarative mixin).

    The definitions match the authentication_requests table column for column, so a
    model using the mixin needs no migration for them."""

    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    claimed_from: Mapped[str | None] = mapped_column(String(24))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Transition(Protocol):
    """A queue's guarded transition (foundation.casework.Casework.try_transition): move
    `row` from the state and version it was read in; False if someone moved it."""

    def __call__(self, s: Session, row: Any, to: Any, *, actor: str, reason: str,
                 conditions: tuple = (), values: dict[str, Any] | None = None,
                 details: dict[str, Any] | None = None) -> bool: ...


# Given the WHERE conditions of the claimable rows, the candidates to try in order (a
# queue whose ordering is not one index walk supplies its own; see Leases.claim).
CandidateFinder = Callable[[Session, list], list]


@dataclass(frozen=True)
class SkipTable:
    """Where a queue remembers that a staff member passed on a row: a model with the
    row's id, the staff member's id and the moment the row may be offered again."""

    model: type
    minutes: Callable[[], int]
    row_id: str = "request_id"
    staff_id: str = "staff_id"
    until: str = "until"

    def column(self, name: str):
        return getattr(self.model, name)


def unclaimed() -> dict[str, None]:
    """The claim columns of a row nobody holds (values for a transition out of claimed)."""
    return {"claimed_by": None, "claimed_from": None, "claimed_at": None,
            "lease_token": None, "lease_expires_at": None}


@dataclass(frozen=True)
class Leases:
    """One queue's claims: the model (with LeaseColumns, `id`, `state` and `version`),
    its claimed state, its guarded transition, its settings and its audit names
    ("<audit_prefix>.claim", ".extend", ".release", ".skip" on `object_type`)."""

    model: type
    claimed_state: str
    transition: Transition
    lease_minutes: Callable[[], int]
    max_claims: Callable[[], int]
    audit_prefix: str
    object_type: str
    noun: str = "request"            # in messages: "You already hold 2 request(s)"
    skips: SkipTable | None = None   # None: the queue has no skip

    # --- claiming ---------------------------------------------------------------------

    def claim(self, s: Session, staff: StaffUser, states: Sequence[str], *,
              conditions: Sequence = (), ordering: Sequence = (),
              find: CandidateFinder | None = None) -> Any | None:
        """Claim for `staff` the first row, in `ordering`, that waits in one of `states`
        (or was claimed from one of them under a lease that lapsed) and meets the
        queue's routing `conditions`; None when there is none.

        `find` replaces the single ordered walk when the queue's order cannot be read
        from one index: it gets the full WHERE conditions and returns the candidates to
        try, best first, read through `candidate_window`."""
        self.require_claim_room(s, staff)
        find = find or self.ordered_finder(ordering)
        for expired in (False, True):
            for _ in range(ROUNDS):
                now = clock.now()
                candidates = find(s, [*self.claimable(staff, states, now, expired=expired),
                                      *conditions])
                if not candidates:
                    break
                for candidate in candidates:
                    if self._try_claim(s, staff, candidate, now):
                        return candidate
        return None

    def claimable(self, staff: StaffUser, states: Sequence[str], now: datetime, *,
                  expired: bool | None) -> list:
        """Rows waiting in `states` (expired=False), rows claimed from them whose lease
        has lapsed (True), or both (None, for showing a queue), not skipped by `staff`."""
        m = self.model
        waiting = m.state.in_(states)
        lapsed = and_(m.state == self.claimed_state, m.claimed_from.in_(states),
                      m.lease_expires_at <= now)
        conditions = [{False: waiting, True: lapsed, None: or_(waiting, lapsed)}[expired]]
        if self.skips is not None:
            conditions.append(self.not_skipped_by(staff, now))
        return conditions

    def not_skipped_by(self, staff: StaffUser, now: datetime):
        skips = self._skip_table()
        return ~exists().where(skips.column(skips.row_id) == self.model.id,
                               skips.column(skips.staff_id) == staff.id,
                               skips.column(skips.until) > now)

    def ordered_finder(self, ordering: Sequence) -> CandidateFinder:
        """The default finder: one walk over the claimable rows in `ordering`."""
        def find(s: Session, where: list) -> list:
            query = select(self.model).where(*where).order_by(*ordering)
            return list(s.scalars(self.candidate_window(s, query)))
        return find

    def candidate_window(self, s: Session, query):
        """`query` cut to the candidates of one round: on PostgreSQL the first row not
        locked by someone else, locked; on SQLite the first few."""
        if s.get_bind().dialect.name == "postgresql":
            # Lock only the row we mean to take: every other locked row would be hidden
            # from concurrent staff until we commit, though we never claim it.
            return query.limit(1).with_for_update(skip_locked=True, of=self.model)
        return query.limit(CANDIDATES_PER_ROUND)

    def require_claim_room(self, s: Session, staff: StaffUser) -> None:
        """Refuse a claim past the limit.  The count and the claim that follows are one
        step: the staff member's row stays locked until the claim commits, so a second
        claim by the same person counts only after the first one is in."""
        lock_claims_of(s, staff)
        limit = self.max_claims()
        held = self.held_count(s, staff)
        if held >= limit:
            raise Conflict(f"You already hold {held} {self.noun}(s); decide or release "
                           f"first (at most {limit}).", code="claim_limit")

    def held_by(self, s: Session, staff: StaffUser) -> list:
        """The rows `staff` holds under a live lease, the soonest to lapse first."""
        m = self.model
        return list(s.scalars(select(m).where(*self._live_claims_of(staff))
                              .order_by(m.lease_expires_at, m.id)))

    def held_count(self, s: Session, staff: StaffUser) -> int:
        return s.scalar(select(func.count()).select_from(self.model)
                        .where(*self._live_claims_of(staff))) or 0

    def _live_claims_of(self, staff: StaffUser) -> tuple:
        m = self.model
        return (m.state == self.claimed_state, m.claimed_by == staff.id,
                m.lease_expires_at > clock.now())

    def _try_claim(self, s: Session, staff: StaffUser, candidate: Any, now: datetime) -> bool:
        taking_over = candidate.state == self.claimed_state
        origin = candidate.claimed_from if taking_over else candidate.state
        conditions = (self.model.lease_expires_at <= now,) if taking_over else ()
        before = {"state": candidate.state, "claimed_by": candidate.claimed_by}
        won = self.transition(
            s, candidate, self.claimed_state, actor=actor(staff),
            reason="claimed_after_lease_expired" if taking_over else "claimed",
            conditions=conditions,
            values={"claimed_by": staff.id, "claimed_from": origin, "claimed_at": now,
                    "lease_token": secrets.token_urlsafe(TOKEN_BYTES),
                    "lease_expires_at": now + self.lease_length()})
        if won:
            self._audit(s, staff, "claim", candidate, before=before,
                        after={"state": candidate.state, "claimed_from": origin,
                               "lease_expires_at": candidate.lease_expires_at})
        return won

    # --- the lease ----------------------------------------------------------------------

    def lease_length(self) -> timedelta:
        return timedelta(minutes=self.lease_minutes())

    def holds(self, row: Any, staff: StaffUser, token: str | None = None) -> bool:
        """`staff` holds `row` under a live lease (with this token, when one is given)."""
        if not (row.state == self.claimed_state and row.claimed_by == staff.id
                and row.lease_token is not None and row.lease_expires_at is not None
                and row.lease_expires_at > clock.now()):
            return False
        # A constant-time comparison, of bytes: compare_digest refuses non-ASCII str.
        return token is None or (isinstance(token, str) and hmac.compare_digest(
            row.lease_token.encode(), token.encode()))

    def require_lease(self, row: Any, staff: StaffUser, token: str | None) -> None:
        """The caller holds `row` under a live lease with this token, or 409 stale_lease."""
        if not isinstance(token, str) or not self.holds(row, staff, token):
            raise casework.stale_lease(self.noun)

    def lease_conditions(self, token: str) -> tuple:
        """WHERE conditions for a transition made under the lease: if the lease was
        taken over or lapsed since it was checked, the transition matches no row."""
        m = self.model
        return (m.lease_token == token, m.lease_expires_at > clock.now())

    def guard(self, staff: StaffUser, token: str) -> casework.Guard:
        """A transition made under the lease, for casework's `transition`: it matches no
        row once the lease is gone, and then answers what `lost_claim` says."""
        return casework.Guard(conditions=self.lease_conditions(token),
                              lost=lambda row: self.lost_claim(row, staff, token))

    def lost_claim(self, row: Any, staff: StaffUser, token: str) -> Conflict:
        """Why a move under the lease lost: the lease is gone (`stale_lease`), or the
        holder still has it and the row moved otherwise (`case_changed`)."""
        if self.holds(row, staff, token):
            return casework.changed_meanwhile(self.noun)
        return casework.stale_lease(self.noun)

    def move(self, s: Session, staff: StaffUser, row: Any, token: str, to: Any, *,
             reason: str, values: dict[str, Any] | None = None,
             details: dict[str, Any] | None = None) -> None:
        """The holder moves `row` to `to` under the lease, or gets `lost_claim`'s 409."""
        if not self.transition(s, row, to, actor=actor(staff), reason=reason,
                               conditions=self.lease_conditions(token), values=values,
                               details=details):
            raise self.lost_claim(row, staff, token)

    def extend(self, s: Session, staff: StaffUser, row: Any, token: str) -> Any:
        """A fresh full lease from now."""
        self.require_lease(row, staff, token)
        before = {"lease_expires_at": row.lease_expires_at}
        self.move(s, staff, row, token, self.claimed_state, reason="lease_extended",
                  values={"lease_expires_at": clock.now() + self.lease_length()})
        self._audit(s, staff, "extend", row, before=before,
                    after={"lease_expires_at": row.lease_expires_at})
        return row

    def release(self, s: Session, staff: StaffUser, row: Any, token: str, *,
                skip: bool = False) -> Any:
        """Give the row back to the state it was claimed from; a skip also keeps it away
        from this staff member for the skip table's minutes."""
        if skip:
            self._skip_table()  # a queue without skips refuses before changing anything
        self.require_lease(row, staff, token)
        self.move(s, staff, row, token, row.claimed_from,
                  reason="skipped" if skip else "released", values=unclaimed())
        if skip:
            self._remember_skip(s, staff, row)
        self._audit(s, staff, "skip" if skip else "release", row,
                    before={"state": self.claimed_state}, after={"state": row.state})
        return row

    def skip(self, s: Session, staff: StaffUser, row: Any, token: str) -> Any:
        return self.release(s, staff, row, token, skip=True)

    def _remember_skip(self, s: Session, staff: StaffUser, row: Any) -> None:
        skips = self._skip_table()
        s.add(skips.model(**{skips.row_id: row.id, skips.staff_id: staff.id,
                             skips.until: clock.now() + timedelta(minutes=skips.minutes())}))
        s.flush()

    def _skip_table(self) -> SkipTable:
        if self.skips is None:
            raise TypeError(f"the {self.object_type} queue has no skip table")
        return self.skips

    def _audit(self, s: Session, staff: StaffUser, action: str, row: Any, *,
               before: dict, after: dict) -> None:
        record(s, staff, f"{self.audit_prefix}.{action}", self.object_type, row.id,
               before=before, after=after)


def lock_claims_of(s: Session, staff: StaffUser) -> None:
    """Hold the staff member's row until the transaction ends.  PostgreSQL: a row lock
    (FOR UPDATE); SQLite ignores FOR UPDATE and serialises writers instead, so a
    no-op UPDATE takes the database's write lock before the claims are counted (a
    deferred transaction that only read would count, then wait to write)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(StaffUser.id).where(StaffUser.id == staff.id).with_for_update())
    else:
        s.execute(update(StaffUser).where(StaffUser.id == staff.id)
                  .values(id=StaffUser.id).execution_options(synchronize_session=False))


def actor(staff: StaffUser) -> str:
    """How transitions name a staff member in their event rows."""
    return f"staff:{staff.id}"
