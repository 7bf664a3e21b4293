from __future__ import annotations

from flask import url_for
from flask_admin import expose

from console.admin.base import ConsoleHomeView
from console.security import current_staff
from foundation.staff.permissions import ROLE_LABELS, Permission, Role


class HomeView(ConsoleHomeView):
    """The landing page: who you are, what you may do, and where to start."""

    @expose("/")
    def index(self):
        staff = current_staff()
        sections = [{"name": view.name, "category": view.category or "Console",
                     "url": url_for(f"{view.endpoint}.{view._default_view}")}
                    for view in self.admin._views
                    if view is not self and view.is_accessible()]
        return self.render("console/home.html", staff=staff,
                           role_label=ROLE_LABELS.get(Role(staff.role), staff.role),
                           permissions=sorted(p.value for p in staff.permissions),
                           sections=sections, can_view_jobs=staff.can(Permission.JOBS_VIEW))
