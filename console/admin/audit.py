from __future__ import annotations

import json

from markupsafe import Markup, escape

from console.admin.base import StaffModelView
from foundation.audit.models import AuditEvent
from foundation.staff.permissions import Permission


def _json_cell(_view, _context, model, name):
    value = getattr(model, name)
    if value is None:
        return ""
    text = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)
    return Markup(f'<pre class="audit-json">{escape(text)}</pre>')


class AuditLogView(StaffModelView):
    """Search the audit trail.  Nobody can create, edit or delete a record here."""

    required_permission = Permission.AUDIT_VIEW

    def __init__(self, **kwargs):
        super().__init__(AuditEvent, **kwargs)

    column_list = ("occurred_at", "actor_label", "action", "object_type", "object_id",
                   "before", "after", "ip")
    column_labels = {"actor_label": "Who", "occurred_at": "When", "object_type": "Object",
                     "object_id": "Id", "ip": "From"}
    column_default_sort = ("occurred_at", True)
    column_searchable_list = ("action", "actor_label", "object_type", "object_id", "ip",
                              "request_id")
    column_filters = ("occurred_at", "action", "object_type", "object_id", "actor_label")
    column_formatters = {"before": _json_cell, "after": _json_cell}
    column_details_list = ("occurred_at", "actor_label", "actor_id", "action", "object_type",
                           "object_id", "before", "after", "ip", "user_agent", "request_id",
                           "job_id")
    column_formatters_detail = {"before": _json_cell, "after": _json_cell}
