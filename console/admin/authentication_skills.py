"""Reviewers' skills in the console (leads): every reviewer with the brands and
categories they know and their price ceiling, each with a form to change them.

The view parses the form and calls authentication.skills.set_skills, which validates
and audits; a refusal re-renders the page with the lead's input and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from flask_admin import expose

from authentication import skills
from console.admin.base import StaffView
from console.security import current_staff
from foundation import db
from foundation.errors import DomainError, ValidationFailed
from foundation.staff.permissions import Permission
from marketplace_core.listings.taxonomy import CATEGORIES

PAISE_PER_RUPEE = 100
MAX_BRANDS_FIELD = 2000


@dataclass(frozen=True)
class SkillsForm:
    """What a lead typed for one reviewer, kept to re-fill the form after a refusal."""
    brands: str = ""
    categories: tuple[str, ...] = ()
    max_price_rupees: str = ""

    @classmethod
    def of(cls, current: skills.Skills) -> SkillsForm:
        ceiling = current.max_price_paise
        return cls(brands=", ".join(current.brands), categories=current.categories,
                   max_price_rupees="" if ceiling is None else _rupees(ceiling))


class AuthenticationSkillsView(StaffView):
    required_permission = Permission.AUTHENTICATION_LEAD

    @expose("/")
    def index(self):
        return self._page()

    @expose("/<int:staff_id>", methods=["POST"])
    def update(self, staff_id: int):
        s = db.session()
        form = submitted_form()
        try:
            saved = skills.set_skills(s, current_staff(), staff_id, **parse_form(form))
        except DomainError as exc:
            s.rollback()
            return self._page(editing=staff_id, form=form, error=exc, status=exc.status)
        flash(f"Skills saved: {describe(saved)}.", "success")
        return redirect(url_for(".index"))

    def _page(self, *, editing: int | None = None, form: SkillsForm | None = None,
              error: DomainError | None = None, status: int = 200):
        reviewers = skills.reviewers_with_skills(db.session())
        forms = {r.staff.id: SkillsForm.of(r.skills) for r in reviewers}
        if editing is not None and form is not None:
            forms[editing] = form
        return self.render("console/authentication_skills.html", reviewers=reviewers,
                           forms=forms, categories=list(CATEGORIES), editing=editing,
                           error=error, field_errors=(error.fields if error else {}),
                           describe=describe), status


def submitted_form() -> SkillsForm:
    return SkillsForm(brands=request.form.get("brands", "")[:MAX_BRANDS_FIELD],
                      categories=tuple(request.form.getlist("categories")),
                      max_price_rupees=request.form.get("max_price_rupees", "").strip())


def parse_form(form: SkillsForm) -> dict:
    """The service's arguments; the service checks brands and categories itself."""
    ceiling = form.max_price_rupees.replace(",", "")
    if ceiling and not (ceiling.isascii() and ceiling.isdigit()):
        raise ValidationFailed("The skills are not valid.", code="bad_skills", fields={
            "max_price_paise": "a whole number of rupees, or empty for no ceiling"})
    return {"brands": [b for b in form.brands.split(",") if b.strip()],
            "categories": list(form.categories),
            "max_price_paise": int(ceiling) * PAISE_PER_RUPEE if ceiling else None}


def describe(current: skills.Skills) -> str:
    parts = [", ".join(current.brands) or "no brands",
             ", ".join(c.replace("_", " ") for c in current.categories) or "no categories",
             "no price ceiling" if current.max_price_paise is None
             else f"up to Rs {_rupees(current.max_price_paise)}"]
    return "; ".join(parts)


def _rupees(paise: int) -> str:
    return str(paise // PAISE_PER_RUPEE)
