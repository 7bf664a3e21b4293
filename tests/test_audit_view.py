"""The audit trail: searchable by those allowed, never editable by anyone."""
import pytest
from sqlalchemy import select

from foundation import db
from foundation.audit.models import AuditEvent, AuditImmutable
from tests.helpers import page_token, sign_in


def test_support_lead_searches_the_audit_log(client, staff):
    _, email, _ = staff("support_lead")
    found_id, _, _ = staff("authenticator", email="findme@staff.test")
    sign_in(client, email)
    response = client.get(f"/console/audit/?search={email}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "staff.sign_in" in html and "findme@staff.test" not in html
    response = client.get("/console/audit/?search=staff.create")
    html = response.get_data(as_text=True)
    assert "findme@staff.test" in html  # the after-image shows the new account


def test_audit_rows_have_no_create_edit_or_delete_in_the_console(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    event_id = db.session().scalar(select(AuditEvent.id).limit(1))
    token = page_token(client, "/console/audit/")
    for method, path, data in (
        ("get", "/console/audit/new/", None),
        ("get", f"/console/audit/edit/?id={event_id}", None),
        ("post", "/console/audit/delete/", {"id": event_id, "csrf_token": token}),
    ):
        response = getattr(client, method)(path, data=data)
        assert response.status_code in (302, 403, 404, 405), path
    db.session.remove()
    assert db.session().get(AuditEvent, event_id) is not None


def test_the_orm_refuses_to_edit_or_delete_audit_rows(app, staff):
    staff("admin")
    s = db.session()
    event = s.scalar(select(AuditEvent).limit(1))
    event.action = "forged"
    with pytest.raises(AuditImmutable):
        s.flush()
    s.rollback()
    s.delete(s.scalar(select(AuditEvent).limit(1)))
    with pytest.raises(AuditImmutable):
        s.flush()
    s.rollback()


def test_authenticators_cannot_read_the_audit_log(client, staff):
    _, email, _ = staff("authenticator")
    sign_in(client, email)
    assert client.get("/console/audit/").status_code == 403
    assert client.get("/console/audit/details/?id=1").status_code == 403
