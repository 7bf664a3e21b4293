"""Console views over the marketplace: members and listings (orders, shipments and the
ledger join them as those packages land).  Lists never COUNT(*) whole tables; state
changes go through services, which audit them."""
from __future__ import annotations

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from markupsafe import Markup, escape
from sqlalchemy import select

from console.admin.base import StaffModelView
from console.formatting import inr
from console.forms import ConfirmForm
from console.security import current_staff
from foundation import db, web
from foundation.errors import DomainError
from foundation.staff.permissions import Permission
from marketplace_core.listings import photos as listing_photos
from marketplace_core.listings import services as listing_services
from marketplace_core.listings.models import Listing, ListingEvent, ListingPhoto, PriceChange
from marketplace_core.media.errors import MediaNotFound
from marketplace_core.media.thumbnails import THUMBNAIL_SIZES
from marketplace_core.members import services as member_services
from marketplace_core.members.models import Member
from vision import duplicates
from vision.counterfeit import services as counterfeit

THUMBNAIL_SIZE_NAMES = {str(size): size for size in THUMBNAIL_SIZES}
# A photo row's file never changes, so a day is safe; the ETag revalidates after that.
THUMBNAIL_MAX_AGE = 86_400


def _money(_view, _context, model, name):
    return inr(getattr(model, name))


def _thumbnail(_view, _context, model, _name):
    cover = model.covershot
    if cover is None:
        return ""
    src = url_for("listings.photo", photo_id=cover.id)
    return Markup(f'<img src="{src}" alt="" class="console-thumb" loading="lazy">')


def _status_badge(_view, _context, model, name):
    value = getattr(model, name)
    colour = {"live": "success", "pending_authentication": "warning", "removed": "danger",
              "sold": "secondary", "draft": "light"}.get(value, "light")
    return Markup(f'<span class="badge badge-{colour}">{escape(value)}</span>')


class MemberAdminView(StaffModelView):
    required_permission = Permission.MARKETPLACE_VIEW
    column_list = ("id", "username", "display_name", "email", "city", "is_active",
                   "selling_restricted", "created_at")
    column_default_sort = ("id", True)
    column_searchable_list = ("username", "email")
    column_filters = ("is_active", "selling_restricted", "city", "created_at")
    column_details_list = column_list + ("bio",)
    details_template = "console/member_details.html"

    def __init__(self, **kwargs):
        super().__init__(Member, **kwargs)

    def listings_of(self, member: Member) -> list[Listing]:
        return list(db.session().scalars(select(Listing).where(
            Listing.seller_id == member.id).order_by(Listing.id.desc()).limit(50)))

    def follow_counts(self, member: Member) -> tuple[int, int]:
        return member_services.follow_counts(db.session(), member.id)

    def can_moderate(self) -> bool:
        return current_staff().can(Permission.MARKETPLACE_MODERATE)

    def can_see_trust(self) -> bool:
        return current_staff().can(Permission.TRUST_VIEW)

    @expose("/restrict/<int:member_id>", methods=["POST"])
    def restrict(self, member_id: int):
        if not self.can_moderate():
            abort(403)
        form = ConfirmForm()
        restricted = request.form.get("restricted") == "1"
        reason = (request.form.get("reason") or "").strip()
        if form.validate_on_submit():
            s = db.session()
            try:
                member_services.set_selling_restricted(
                    s, member_services.get_member_any(s, member_id), restricted=restricted,
                    reason=reason, actor=current_staff())
            except DomainError as exc:
                s.rollback()
                flash(exc.message, "danger")
            else:
                flash("Selling restricted." if restricted else "Selling allowed again.",
                      "success")
        else:
            flash("The form expired; nothing changed.", "danger")
        return redirect(url_for(".details_view", id=member_id))


class ListingAdminView(StaffModelView):
    required_permission = Permission.MARKETPLACE_VIEW
    column_list = ("id", "covershot", "title", "brand", "category", "size", "price_paise",
                   "status", "seller_id", "published_at")
    column_labels = {"price_paise": "Price", "seller_id": "Seller",
                     "original_price_paise": "Original price", "covershot": ""}
    column_default_sort = ("id", True)
    column_searchable_list = ("title", "brand_key")
    column_filters = ("status", "category", "brand_key", "condition", "price_paise",
                      "seller_id", "published_at")
    column_formatters = {"price_paise": _money, "covershot": _thumbnail,
                         "status": _status_badge}
    column_details_list = ("id", "title", "description", "brand", "category", "size",
                           "condition", "colour", "original_price_paise", "price_paise",
                           "status", "seller_id", "created_at", "published_at",
                           "authenticated_at", "authentication_certificate", "removed_at",
                           "removed_reason")
    column_formatters_detail = {"price_paise": _money, "original_price_paise": _money,
                                "status": _status_badge}
    details_template = "console/listing_details.html"

    def __init__(self, **kwargs):
        super().__init__(Listing, **kwargs)

    def history(self, listing: Listing) -> dict:
        s = db.session()
        return {
            "events": list(s.scalars(select(ListingEvent).where(
                ListingEvent.listing_id == listing.id).order_by(ListingEvent.id))),
            "prices": list(s.scalars(select(PriceChange).where(
                PriceChange.listing_id == listing.id).order_by(PriceChange.id))),
        }

    def can_moderate(self) -> bool:
        return current_staff().can(Permission.MARKETPLACE_MODERATE)

    def can_see_trust(self) -> bool:
        return current_staff().can(Permission.TRUST_VIEW)

    def counterfeit_risk(self, listing: Listing):
        """The listing's latest counterfeit-risk score, for staff who may see vision."""
        if not current_staff().can(Permission.VISION_VIEW):
            return None
        return counterfeit.score_of(db.session(), listing.id)

    def duplicate_flags(self, listing: Listing) -> list:
        """The duplicate flags the listing is on (either side), for staff who may see vision."""
        if not current_staff().can(Permission.VISION_VIEW):
            return []
        return duplicates.flags_for_listing(db.session(), listing.id)

    @expose("/photo/<int:photo_id>")
    def photo(self, photo_id: int):
        photo = db.session().get(ListingPhoto, photo_id)
        stored = listing_photos.open_stored(photo.media_key) if photo is not None else None
        if stored is None or not stored.is_file():
            abort(404)  # an unknown photo, or one whose file is not in this store
        return send_file(stored, mimetype="image/jpeg", max_age=600)

    @expose("/photo/<int:photo_id>/<size>")
    def photo_thumbnail(self, photo_id: int, size: str):
        """The photo shrunk for a queue or workspace, made once and kept; the browser may
        keep it too (private: staff only) and revalidates it with its ETag."""
        long_side = THUMBNAIL_SIZE_NAMES.get(size)
        if long_side is None:
            return web.error_response(
                400, "invalid_thumbnail_size",
                f"A thumbnail is {' or '.join(THUMBNAIL_SIZE_NAMES)} pixels on its long side.",
                fields={"size": ", ".join(THUMBNAIL_SIZE_NAMES)})
        photo = db.session().get(ListingPhoto, photo_id)
        try:
            stored = (listing_photos.store().thumbnail(photo.media_key, long_side)
                      if photo is not None else None)
        except MediaNotFound:
            stored = None
        if stored is None:
            abort(404)  # an unknown photo, or one whose file is not in this store
        response = send_file(stored, mimetype="image/jpeg", etag=f"{photo.media_key}-{size}",
                             conditional=True, max_age=THUMBNAIL_MAX_AGE)
        response.cache_control.public = False
        response.cache_control.private = True
        return response

    @expose("/remove/<int:listing_id>", methods=["POST"])
    def remove(self, listing_id: int):
        if not self.can_moderate():
            abort(403)
        reason = (request.form.get("reason") or "").strip()
        if not ConfirmForm().validate_on_submit():
            flash("The form expired; nothing changed.", "danger")
            return redirect(url_for(".details_view", id=listing_id))
        s = db.session()
        try:
            listing_services.remove_by_staff(
                s, listing_services.get_listing(s, listing_id), actor=current_staff(),
                reason=reason)
        except DomainError as exc:
            s.rollback()
            flash(exc.message, "danger")
        else:
            flash("Listing removed.", "success")
        return redirect(url_for(".details_view", id=listing_id))
