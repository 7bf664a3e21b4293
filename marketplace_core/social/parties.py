"""Posh Parties: themed, time-boxed events that members share fitting listings into.

A party's state is derived from the clock (upcoming before `starts_at`, live from
`starts_at` up to but not including `ends_at`, then ended), so there is no stored
state to drift and no transition job to miss.  Staff (audited) or the system create
parties; `seed_parties_for_day` lays out a day's schedule idempotently.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from foundation import clock
from foundation.audit.services import record
from foundation.config import current as settings
from foundation.errors import NotFound, ValidationFailed
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import Listing
from marketplace_core.listings.search import live_listings
from marketplace_core.listings.taxonomy import CATEGORIES
from marketplace_core.members.models import Member
from marketplace_core.social import cursors
from marketplace_core.social.models import Party, PartyState, Share

DEPARTMENTS = tuple(sorted({department for department, _ in CATEGORIES.values()}))
IST = timezone(timedelta(hours=5, minutes=30))


@dataclass(frozen=True)
class Theme:
    categories: Sequence[str] = ()
    departments: Sequence[str] = ()
    brands: Sequence[str] = ()
    min_price_paise: int | None = None
    max_price_paise: int | None = None


# --- creating ------------------------------------------------------------------------

def create_party(s: Session, *, title: str, starts_at: datetime, ends_at: datetime,
                 theme: Theme | None = None, description: str = "", host: Member | None = None,
                 actor: StaffUser | None = None) -> Party:
    """Create a party; a staff actor is audited, no actor means the system."""
    theme = theme or Theme()
    _check_party(title, starts_at, ends_at, theme)
    party = Party(
        title=title.strip(), description=description.strip(),
        host_id=host.id if host else None, categories=sorted(set(theme.categories)),
        departments=sorted(set(theme.departments)),
        brand_keys=sorted({b.strip().lower() for b in theme.brands}),
        min_price_paise=theme.min_price_paise, max_price_paise=theme.max_price_paise,
        starts_at=starts_at.astimezone(UTC), ends_at=ends_at.astimezone(UTC),
        created_by=f"staff:{actor.id}" if actor else "system", created_at=clock.now())
    s.add(party)
    s.flush()
    if actor is not None:
        record(s, actor, "party.create", "party", party.id,
               after={"title": party.title, "starts_at": party.starts_at,
                      "ends_at": party.ends_at, "categories": party.categories,
                      "departments": party.departments, "brands": party.brand_keys,
                      "min_price_paise": party.min_price_paise,
                      "max_price_paise": party.max_price_paise})
    return party


def _check_party(title: str, starts_at: datetime, ends_at: datetime, theme: Theme) -> None:
    problems: dict[str, str] = {}
    if not 3 <= len(title.strip()) <= 80:
        problems["title"] = "3 to 80 characters"
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        problems["starts_at"] = "needs a time zone"
    elif ends_at <= starts_at:
        problems["ends_at"] = "must be after starts_at"
    elif ends_at - starts_at > timedelta(hours=settings().PARTY_MAX_HOURS):
        problems["ends_at"] = f"a party lasts at most {settings().PARTY_MAX_HOURS} hours"
    elif ends_at <= clock.now():
        problems["ends_at"] = "is already past"
    unknown = sorted(set(theme.categories) - set(CATEGORIES))
    if unknown:
        problems["categories"] = "unknown: " + ", ".join(unknown)
    unknown = sorted(set(theme.departments) - set(DEPARTMENTS))
    if unknown:
        problems["departments"] = "unknown: " + ", ".join(unknown)
    if any(not b.strip() or len(b.strip()) > 60 for b in theme.brands):
        problems["brands"] = "each 1 to 60 characters"
    for name in ("min_price_paise", "max_price_paise"):
        value = getattr(theme, name)
        if value is not None and value <= 0:
            problems[name] = "must be positive"
    if theme.min_price_paise and theme.max_price_paise \
            and theme.min_price_paise > theme.max_price_paise:
        problems["max_price_paise"] = "must not be below min_price_paise"
    if problems:
        raise ValidationFailed("The party cannot be created like this.", fields=problems)


@dataclass(frozen=True)
class Slot:
    """A recurring party in the daily schedule, at a wall-clock time in India."""

    title: str
    starts: time
    hours: int
    theme: Theme = field(default_factory=Theme)
    description: str = ""


DAILY_SCHEDULE: tuple[Slot, ...] = (
    Slot("Saree Soirée", time(11, 0), 2, Theme(categories=("sarees",)),
         "Silks, chiffons and handlooms."),
    Slot("Festive Kurtas & Suits", time(14, 0), 2,
         Theme(categories=("kurtas", "salwar_suits", "sherwanis"))),
    Slot("Under Rs 999", time(17, 0), 2, Theme(max_price_paise=99_900),
         "Finds under a thousand rupees."),
    Slot("Designer Bags", time(19, 0), 2,
         Theme(categories=("handbags",), min_price_paise=500_000)),
    Slot("Best in Western Wear", time(21, 0), 2, Theme(departments=("western_wear",))),
    Slot("Sneaker Night", time(22, 30), 1, Theme(categories=("sneakers",))),
)


def seed_parties_for_day(s: Session, day: date, host: Member | None = None,
                         schedule: Iterable[Slot] = DAILY_SCHEDULE) -> list[Party]:
    """The day's parties (India time); slots that exist already, or are over, are skipped,
    so running it again is harmless."""
    created = []
    for slot in schedule:
        starts_at = datetime.combine(day, slot.starts, IST).astimezone(UTC)
        ends_at = starts_at + timedelta(hours=slot.hours)
        if ends_at <= clock.now() or _slot_taken(s, slot.title, starts_at):
            continue
        created.append(create_party(s, title=slot.title, starts_at=starts_at,
                                    ends_at=ends_at, theme=slot.theme,
                                    description=slot.description, host=host))
    return created


def _slot_taken(s: Session, title: str, starts_at: datetime) -> bool:
    return s.scalar(select(Party.id).where(Party.title == title,
                                           Party.starts_at == starts_at)) is not None


# --- reading -------------------------------------------------------------------------

def get_party(s: Session, party_id: int) -> Party:
    party = s.get(Party, party_id)
    if party is None:
        raise NotFound("No such party.")
    return party


def current_parties(s: Session, *, cursor: str | None = None, limit: int = 24
                    ) -> tuple[list[Party], str | None]:
    """Live and upcoming parties, soonest first."""
    statement = select(Party).where(Party.ends_at > clock.now())
    if cursor:
        starts_at, last_id = cursors.decode(cursor, datetime, int)
        statement = statement.where(or_(Party.starts_at > starts_at,
                                        and_(Party.starts_at == starts_at,
                                             Party.id > last_id)))
    rows = list(s.scalars(statement.order_by(Party.starts_at, Party.id).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        next_cursor = cursors.encode(rows[limit - 1].starts_at, rows[limit - 1].id)
    return rows[:limit], next_cursor


def state(party: Party) -> PartyState:
    return party.state_at(clock.now())


def theme_misfits(party: Party, listing: Listing) -> dict[str, str]:
    """Why the listing does not fit the party's theme (empty when it fits)."""
    misfits: dict[str, str] = {}
    if party.categories and listing.category not in party.categories:
        misfits["category"] = "this party takes " + ", ".join(party.categories)
    department = CATEGORIES.get(listing.category, ("",))[0]
    if party.departments and department not in party.departments:
        misfits["department"] = "this party takes " + ", ".join(party.departments)
    if party.brand_keys and listing.brand_key not in party.brand_keys:
        misfits["brand"] = "this party takes " + ", ".join(party.brand_keys)
    if party.min_price_paise is not None and listing.price_paise < party.min_price_paise:
        misfits["price_paise"] = f"at least {party.min_price_paise} paise"
    if party.max_price_paise is not None and listing.price_paise > party.max_price_paise:
        misfits["price_paise"] = f"at most {party.max_price_paise} paise"
    return misfits


def party_listings(s: Session, party: Party, *, cursor: str | None = None, limit: int = 24
                   ) -> tuple[list[Listing], str | None]:
    """Listings shared into the party that are still live, each once, by newest share.

    The key is the id of a listing's newest share into this party: ids grow with time,
    are unique, and keep pages stable while members keep sharing.
    """
    newest = (select(Share.listing_id, func.max(Share.id).label("share_key"))
              .where(Share.party_id == party.id).group_by(Share.listing_id).subquery())
    statement = (select(Listing, newest.c.share_key)
                 .join(newest, newest.c.listing_id == Listing.id).where(live_listings()))
    if cursor:
        (last_key,) = cursors.decode(cursor, int)
        statement = statement.where(newest.c.share_key < last_key)
    rows = list(s.execute(statement.order_by(newest.c.share_key.desc())
                          .limit(limit + 1)).all())
    next_cursor = cursors.encode(rows[limit - 1][1]) if len(rows) > limit else None
    return [listing for listing, _ in rows[:limit]], next_cursor
