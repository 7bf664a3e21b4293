"""Admins manage staff through the console; every change is audited."""
from sqlalchemy import select

from foundation import db
from foundation.audit.models import AuditEvent
from foundation.staff.models import StaffUser
from tests.builders.staff import STRONG_PASSWORD
from tests.helpers import page_token, sign_in


def test_admin_creates_a_staff_member_and_it_is_audited(client, staff):
    admin_id, email, _ = staff("admin")
    sign_in(client, email)
    token = page_token(client, "/console/staff/")
    response = client.post("/console/staff/", data={
        "email": "New.Person@Staff.test", "display_name": "New Person", "role": "support_agent",
        "password": STRONG_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    created = db.session().scalar(select(StaffUser).where(
        StaffUser.email == "new.person@staff.test"))
    assert created.role == "support_agent"
    event = db.session().scalar(select(AuditEvent).where(
        AuditEvent.action == "staff.create", AuditEvent.object_id == str(created.id)))
    assert event.actor_id == admin_id
    assert event.after["role"] == "support_agent"
    assert event.ip == "127.0.0.1"


def test_bad_staff_form_input_gets_a_form_message_and_changes_nothing(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    before = db.session().scalars(select(StaffUser.id)).all()
    for data, message in (
        ({"email": "x@staff.test", "role": "authenticator", "password": "short"},
         b"at least 12 characters"),
        ({"email": email, "role": "authenticator", "password": STRONG_PASSWORD},
         b"already in use"),
        ({"email": "y@staff.test", "role": "emperor", "password": STRONG_PASSWORD},
         b"Not a valid choice"),
    ):
        data["csrf_token"] = page_token(client, "/console/staff/")
        response = client.post("/console/staff/", data=data)
        assert response.status_code == 200
        assert message in response.data
    db.session.remove()
    assert db.session().scalars(select(StaffUser.id)).all() == before


def test_role_change_is_audited_with_before_and_after(client, staff):
    _, email, _ = staff("admin")
    target_id, _, _ = staff("authenticator")
    sign_in(client, email)
    client.post(f"/console/staff/{target_id}/role", data={
        "role": "senior_authenticator", "csrf_token": page_token(client, "/console/staff/")})
    assert db.session().get(StaffUser, target_id).role == "senior_authenticator"
    event = db.session().scalar(select(AuditEvent).where(
        AuditEvent.action == "staff.change_role"))
    assert (event.before, event.after) == ({"role": "authenticator"},
                                           {"role": "senior_authenticator"})


def test_admins_cannot_lock_themselves_out(client, staff):
    admin_id, email, _ = staff("admin")
    sign_in(client, email)
    response = client.post(f"/console/staff/{admin_id}/deactivate", data={
        "csrf_token": page_token(client, "/console/staff/")}, follow_redirects=True)
    assert b"cannot deactivate your own account" in response.data
    assert db.session().get(StaffUser, admin_id).is_active


def test_password_reset_ends_sessions_and_the_new_password_works(app, staff):
    admin_client, member_client = app.test_client(), app.test_client()
    _, admin_email, _ = staff("admin")
    member_id, member_email, _ = staff("support_lead")
    sign_in(admin_client, admin_email)
    sign_in(member_client, member_email)
    admin_client.post(f"/console/staff/{member_id}/password", data={
        "password": "a-brand-new-password", "csrf_token": page_token(admin_client,
                                                                     "/console/staff/")})
    assert member_client.get("/console/").status_code == 302
    assert sign_in(app.test_client(), member_email).status_code == 401
    assert sign_in(app.test_client(), member_email, "a-brand-new-password").status_code == 302


def test_unknown_staff_id_is_a_clear_message(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    response = client.post("/console/staff/999999/deactivate", data={
        "csrf_token": page_token(client, "/console/staff/")}, follow_redirects=True)
    assert b"No such staff account" in response.data
