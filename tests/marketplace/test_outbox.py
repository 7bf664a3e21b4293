"""Effects outside the database: every refund a buyer is owed reaches the payment provider
once, every payout reaches the bank once, through provider time-outs, lost answers,
repeated deliveries and a Redis that is down at the commit; reconciliation says so.

Real parts only: the app's database, the embedded Redis, the worker's jobs run by
`jobs.run_pending()`, and the simulated provider and bank reading and writing their own
SQLite stores in the test's instance folder.
"""
from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, text

from foundation import clock, db, events, jobs
from foundation.audit.models import AuditEvent
from marketplace_core.ledger.models import LedgerTransaction, Payout
from marketplace_core.members.models import Member
from marketplace_core.orders import payments, payouts, provider_store, services
from marketplace_core.orders.models import Order
from marketplace_core.outbox import reconcile
from marketplace_core.outbox.models import OutboxEffect
from marketplace_core.outbox.services import dispatch_now
from marketplace_core.outbox.tasks import run_reconciliation, sweep_outbox
from tests.builders.cases import DELIVERED, case_under_review
from tests.builders.orders import TOTAL, assert_books_sound, new_sale, order_row, place
from tests.builders.payouts import (
    EARNED,
    FAILING_ACCOUNT,
    GOOD_ACCOUNT,
    completed_sale,
    run_payouts_at,
    set_account,
)
from tests.disputes.support import decide, settings_changed
from tests.helpers import page_token, sign_in

PAGE = "/console/reconciliation/"
HOUR = timedelta(hours=1)


# --- helpers --------------------------------------------------------------------------------

def refunds_at_provider() -> list[tuple[str, int]]:
    return [(r["reference"], r["amount_paise"]) for r in payments.provider().received_refunds()]


def transfers_at_bank() -> list[tuple[str, int]]:
    return [(t["reference"], t["amount_paise"]) for t in payouts.bank().received_transfers()]


def effects(**where) -> list[OutboxEffect]:
    with db.unit_of_work() as s:
        query = select(OutboxEffect).order_by(OutboxEffect.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxEffect, name) == value)
        return list(s.scalars(query))


def the_effect(**where) -> OutboxEffect:
    found = effects(**where)
    assert len(found) == 1, found
    return found[0]


def ledger_refund(order_id: int) -> tuple[str, int]:
    """The provider reference and amount the ledger's refund posting of an order owes."""
    with db.unit_of_work() as s:
        posting = s.scalars(select(LedgerTransaction).where(
            LedgerTransaction.order_id == order_id,
            LedgerTransaction.kind.in_(["refund", "split"]))).one()
        cash = [e for e in posting.entries if e.account.kind == "platform_cash"]
        return payments.refund_reference(order_id, posting.id), -sum(e.amount_paise for e in cash)


def later(by: timedelta = HOUR) -> None:
    """Move the clock past any retry delay and let the worker run what is due."""
    clock.freeze(clock.now() + by)
    jobs.run_pending()


def faults(monkeypatch, spec: str | None) -> None:
    if spec is None:
        monkeypatch.delenv("PROVIDER_FAULTS", raising=False)
    else:
        monkeypatch.setenv("PROVIDER_FAULTS", spec)


def reconciled() -> dict:
    with db.unit_of_work() as s:
        return reconcile.reconcile(s)


def store(name: str) -> sqlite3.Connection:
    return sqlite3.connect(provider_store.store_dir() / name)


def dispute_refunded(staff) -> int:
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item")
    return order.order_id


def cancelled_order(buyer_reason: str = "ordered the wrong size") -> int:
    sale = new_sale()
    order_id = place(sale)
    clock.freeze(clock.now() + timedelta(minutes=5))
    with db.unit_of_work() as s:
        services.cancel_by_buyer(s, s.get(Order, order_id), s.get(Member, sale.buyer),
                                 buyer_reason)
    return order_id


# --- every refund reaches the provider, once -----------------------------------------------

def test_a_dispute_refund_reaches_the_provider_exactly_once(app, staff):
    order_id = dispute_refunded(staff)
    effect = the_effect(order_id=order_id)
    assert (effect.kind, effect.state, effect.payload["amount_paise"]) == \
        ("card_refund", "pending", TOTAL)
    jobs.run_pending()
    assert refunds_at_provider() == [ledger_refund(order_id)] == [(effect.reference, TOTAL)]
    delivered = the_effect(order_id=order_id)
    received = payments.provider().received_refunds()[0]
    assert (delivered.state, delivered.attempts, delivered.provider_answer_ref,
            delivered.provider_status) == ("delivered", 1, received["refund_id"], "succeeded")
    assert received["provider_ref"] == order_row(order_id).provider_ref
    # The sweep and more worker runs later change nothing.
    later(timedelta(days=1))
    sweep_outbox()
    jobs.run_pending()
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    assert payments.provider().requests_sent("refund") == {effect.reference: 1}
    assert_books_sound()


def test_the_refund_part_of_a_split_reaches_the_provider_once(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "split", "minor_damage", refund_paise=50_000)
    jobs.run_pending()
    jobs.run_pending()
    assert refunds_at_provider() == [ledger_refund(order.order_id)]
    assert refunds_at_provider()[0][1] == 50_000
    assert the_effect(order_id=order.order_id).state == "delivered"


def test_a_cancellations_refund_reaches_the_provider_once(app):
    clock.freeze(clock.now())
    order_id = cancelled_order()
    jobs.run_pending()
    assert refunds_at_provider() == [ledger_refund(order_id)] == [
        (ledger_refund(order_id)[0], TOTAL)]
    result = reconciled()["refunds"]
    assert (result["ledger"], result["provider"], result["missing"], result["duplicated"]) == \
        (1, 1, [], [])


def test_a_payout_reaches_the_bank_once_and_settles(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    run_payouts_at(clock.now() + timedelta(days=3))
    jobs.run_pending()
    with db.unit_of_work() as s:
        payout = s.scalars(select(Payout)).one()
        payout_id, state, bank_ref = payout.id, payout.state, payout.provider_ref
    assert transfers_at_bank() == [(f"payout-{payout_id}", EARNED)]
    assert state == "paid"
    effect = the_effect(payout_id=payout_id)
    assert (effect.kind, effect.state, effect.provider_status, effect.provider_answer_ref) == \
        ("bank_payout", "delivered", "paid", bank_ref)
    later(timedelta(days=1))
    assert transfers_at_bank() == [(f"payout-{payout_id}", EARNED)]
    assert_books_sound()


def test_a_refused_payout_is_delivered_and_returns_the_money(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, FAILING_ACCOUNT)
    run_payouts_at(clock.now() + timedelta(days=3))
    effect = the_effect(kind="bank_payout")
    assert (effect.state, effect.provider_status) == ("delivered", "refused")
    assert transfers_at_bank() == []
    assert [t["reference"] for t in payouts.bank().refused_transfers()] == [effect.reference]
    with db.unit_of_work() as s:
        assert s.get(Payout, effect.payout_id).state == "failed"
    assert reconciled()["clean"]
    assert_books_sound()


# --- delivered twice, timed out, answer lost ------------------------------------------------

def test_one_effect_dispatched_twice_is_one_refund_at_the_provider(app, staff):
    order_id = dispute_refunded(staff)
    effect = the_effect(order_id=order_id)
    # The after-commit job, a sweep's job and a stray second job for the same attempt.
    dispatch_now(effect.id, 0, sweep=True)
    dispatch_now(effect.id, 0, sweep=True)
    jobs.run_pending()
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    # A worker killed after the provider answered and before its commit leaves the effect
    # pending: the next delivery asks again, and the provider answers the same refund.
    with db.unit_of_work() as s:
        s.execute(text("UPDATE outbox_effects SET state = 'pending', provider_answer_ref = NULL"
                       " WHERE id = :id"), {"id": effect.id})
    first_answer = payments.provider().received_refunds()[0]["refund_id"]
    dispatch_now(effect.id, 5)
    jobs.run_pending()
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    assert payments.provider().requests_sent("refund") == {effect.reference: 2}
    assert the_effect(order_id=order_id).provider_answer_ref == first_answer


def test_a_provider_time_out_is_retried_with_backoff_and_delivered_once(app, staff,
                                                                         monkeypatch):
    faults(monkeypatch, "timeout=1")
    order_id = dispute_refunded(staff)
    jobs.run_pending()
    effect = the_effect(order_id=order_id)
    assert (effect.state, effect.attempts, refunds_at_provider()) == ("pending", 1, [])
    assert "ProviderTimeout" in effect.last_error
    first_delay = effect.next_attempt_at - clock.now()
    later()
    second = the_effect(order_id=order_id)
    assert second.attempts == 2
    assert second.next_attempt_at - clock.now() == 2 * first_delay  # the delay doubles
    faults(monkeypatch, None)
    later()
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    assert (the_effect(order_id=order_id).state, the_effect(order_id=order_id).attempts) == \
        ("delivered", 3)
    # The two time-outs never reached the door; the one delivery did.
    assert payments.provider().requests_sent("refund") == {effect.reference: 1}


def test_an_answer_lost_after_the_refund_is_asked_again_and_not_paid_twice(app, staff,
                                                                          monkeypatch):
    faults(monkeypatch, "lost=1")
    order_id = dispute_refunded(staff)
    jobs.run_pending()
    effect = the_effect(order_id=order_id)
    assert (effect.state, effect.attempts) == ("pending", 1)
    # The provider refunded and committed; only its answer was lost.
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    first_answer = payments.provider().received_refunds()[0]["refund_id"]
    faults(monkeypatch, None)
    later()
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    delivered = the_effect(order_id=order_id)
    assert (delivered.state, delivered.provider_answer_ref) == ("delivered", first_answer)
    assert payments.provider().requests_sent("refund") == {effect.reference: 2}
    assert reconciled()["refunds"]["duplicated"] == []


def test_a_bank_time_out_keeps_the_payout_in_flight_until_it_is_delivered(client,
                                                                          monkeypatch):
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    faults(monkeypatch, "error=1")
    run_payouts_at(clock.now() + timedelta(days=3))
    effect = the_effect(kind="bank_payout")
    assert (effect.state, "ProviderError" in effect.last_error) == ("pending", True)
    with db.unit_of_work() as s:
        assert s.get(Payout, effect.payout_id).state == "pending"
    faults(monkeypatch, None)
    later()
    assert transfers_at_bank() == [(effect.reference, EARNED)]
    with db.unit_of_work() as s:
        assert s.get(Payout, effect.payout_id).state == "paid"
    assert_books_sound()


# --- dead, and the audited retry from the console -------------------------------------------

def test_after_n_failures_an_effect_is_dead_and_a_console_retry_delivers_it(client, staff,
                                                                            monkeypatch):
    faults(monkeypatch, "error=1")
    with settings_changed(OUTBOX_MAX_ATTEMPTS=3):
        order_id = dispute_refunded(staff)
        for _ in range(3):
            later()
        effect = the_effect(order_id=order_id)
        assert (effect.state, effect.attempts) == ("dead", 3)
        later()
        assert the_effect(order_id=order_id).attempts == 3  # nobody tries a dead effect
        assert [d["reference"] for d in reconciled()["dead"]] == [effect.reference]
        assert [m["reference"] for m in reconciled()["refunds"]["missing"]] == \
            [effect.reference]

        lead_id, email, password = staff("support_lead")
        assert sign_in(client, email, password).status_code == 302
        page = client.get(PAGE)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert effect.reference in html and "Retry" in html
        # The CSP holds: no inline script, no inline event handler.
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert re.search(r"\son[a-z]+=", html) is None
        retry = f"{PAGE}effects/{effect.id}/retry"
        # No CSRF token: refused, nothing changes, nothing is audited.
        assert client.post(retry, data={}).status_code == 400
        assert the_effect(order_id=order_id).state == "dead"
        token = page_token(client, PAGE)
        faults(monkeypatch, None)
        response = client.post(retry, data={"csrf_token": token})
        assert response.status_code == 302
        retried = the_effect(order_id=order_id)
        assert (retried.state, retried.attempts) == ("pending", 0)
        with db.unit_of_work() as s:
            audits = s.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retry")
                               ).all()
            assert [(a.actor_id, a.object_id, a.before["state"], a.after["state"])
                    for a in audits] == [(lead_id, str(effect.id), "dead", "pending")]
        jobs.run_pending()
        assert refunds_at_provider() == [(effect.reference, TOTAL)]
        assert the_effect(order_id=order_id).state == "delivered"
        # Retrying what is no longer dead changes nothing.
        client.post(retry, data={"csrf_token": page_token(client, PAGE)})
        assert the_effect(order_id=order_id).state == "delivered"
        with db.unit_of_work() as s:
            assert len(s.scalars(select(AuditEvent).where(
                AuditEvent.action == "outbox.retry")).all()) == 1


@pytest.mark.parametrize("role, status", [
    ("support_agent", 403), ("authenticator", 403),
    ("support_lead", 200), ("fraud_analyst", 200), ("admin", 200)])
def test_the_reconciliation_page_needs_its_permission(client, staff, role, status):
    _, email, password = staff(role)
    assert sign_in(client, email, password).status_code == 302
    assert client.get(PAGE).status_code == status
    token = page_token(client, "/console/")
    retried = client.post(f"{PAGE}effects/1/retry", data={"csrf_token": token})
    assert retried.status_code == (403 if status == 403 else 302)


# --- Redis down at the commit -----------------------------------------------------------------

@pytest.fixture
def redis_down(monkeypatch, tmp_path):
    """A context in which every enqueue fails as when Redis is unreachable (the worker's
    own client, which runs the jobs afterwards, is left alone)."""
    broken = redis.Redis(unix_socket_path=str(tmp_path / "no-redis.sock"),
                         socket_connect_timeout=0.2, socket_timeout=0.2)

    @contextlib.contextmanager
    def down():
        healthy = jobs._state["redis"]
        jobs._state["redis"] = broken
        try:
            yield
        finally:
            jobs._state["redis"] = healthy

    return down


def test_an_enqueue_failure_at_commit_keeps_the_refund_and_the_sweep_delivers_it(app,
                                                                               redis_down):
    clock.freeze(clock.now())
    sale = new_sale()
    order_id = place(sale)
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        services.mark_shipped(s, order)
    with db.unit_of_work() as s:
        services.hold_for_case(s, s.get(Order, order_id), "NAD-9")
    # The commit succeeds although the delivery job cannot be queued.
    with redis_down(), db.unit_of_work() as s:
        services.refund_for_case(s, s.get(Order, order_id), "NAD-9", TOTAL)
    assert order_row(order_id).status == "refunded"
    effect = the_effect(order_id=order_id)
    assert effect.state == "pending"
    jobs.run_pending()
    assert refunds_at_provider() == []  # no job was queued: only the sweep can find it
    clock.freeze(clock.now() + timedelta(minutes=1))
    sweep_outbox.enqueue_now()
    jobs.run_pending()
    assert refunds_at_provider() == [(effect.reference, TOTAL)]
    assert the_effect(order_id=order_id).state == "delivered"


def test_an_enqueue_failure_of_a_payout_leaves_it_in_flight_until_the_sweep(client,
                                                                           redis_down):
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    clock.freeze(clock.now() + timedelta(days=3))
    with redis_down(), db.unit_of_work() as s:
        assert len(payouts.start_due_payouts(s)) == 1
    effect = the_effect(kind="bank_payout")
    assert effect.state == "pending"
    clock.freeze(clock.now() + timedelta(minutes=1))
    sweep_outbox.enqueue_now()
    jobs.run_pending()
    assert transfers_at_bank() == [(effect.reference, EARNED)]


# --- reconciliation ---------------------------------------------------------------------------

def test_reconciliation_finds_refunds_and_payouts_missing_or_doubled_at_the_other_side(
        client, staff):
    order_id = dispute_refunded(staff)
    jobs.run_pending()
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    run_payouts_at(clock.now() + timedelta(days=3))
    jobs.run_pending()
    result = reconciled()
    assert result["clean"]
    assert (result["refunds"]["ledger"], result["refunds"]["provider"]) == (1, 1)
    assert (result["payouts"]["ledger"], result["payouts"]["provider"]) == (1, 1)
    reference, _ = ledger_refund(order_id)
    payout_ref = the_effect(kind="bank_payout").reference

    # The provider lost the refund and the bank the transfer.
    with store("payments.sqlite3") as provider:
        provider.execute("DELETE FROM refunds")
    with store("bank.sqlite3") as bank:
        bank.execute("DELETE FROM transfers")
    clock.freeze(DELIVERED + timedelta(days=10))
    result = reconciled()
    assert not result["clean"]
    assert [(m["reference"], m["amount_paise"], m["effect_state"])
            for m in result["refunds"]["missing"]] == [(reference, TOTAL, "delivered")]
    assert [(m["reference"], m["amount_paise"]) for m in result["payouts"]["missing"]] == \
        [(payout_ref, EARNED)]
    assert result["refunds"]["missing"][0]["age_seconds"] >= 8 * 86400

    # Put them back, then a second refund of the same capture and a transfer nobody booked.
    with store("payments.sqlite3") as provider:
        provider.execute("INSERT INTO refunds VALUES (?, 'r1', ?, ?, '2025-01-01T00:00:00+00:00')",
                         (reference, order_row(order_id).provider_ref, TOTAL))
        provider.execute("INSERT INTO refunds VALUES ('order-x-again', 'r2', ?, ?, "
                         "'2025-01-01T00:00:00+00:00')",
                         (order_row(order_id).provider_ref, TOTAL))
    with store("bank.sqlite3") as bank:
        for ref in (payout_ref, "payout-999"):
            bank.execute("INSERT INTO transfers VALUES (?, '50100123456789', 'HDFC0001234', ?,"
                         " 'accepted', 'utr', NULL, '2025-01-01T00:00:00+00:00')",
                         (ref, EARNED))
    result = reconciled()
    assert (result["refunds"]["missing"], result["payouts"]["missing"]) == ([], [])
    assert [d["reference"] for d in result["refunds"]["duplicated"]] == ["order-x-again"]
    assert [d["reference"] for d in result["payouts"]["duplicated"]] == ["payout-999"]
    assert not result["clean"]


def test_a_refund_not_yet_delivered_is_in_transit_until_the_grace_period_ends(app, staff,
                                                                            monkeypatch):
    faults(monkeypatch, "error=1")
    order_id = dispute_refunded(staff)
    jobs.run_pending()
    result = reconciled()
    assert [t["reference"] for t in result["refunds"]["in_transit"]] == \
        [ledger_refund(order_id)[0]]
    assert result["clean"]
    with settings_changed(RECONCILE_GRACE_SECONDS=0):
        assert [m["reference"] for m in reconciled()["refunds"]["missing"]] == \
            [ledger_refund(order_id)[0]]


def test_flask_reconcile_prints_the_json_and_fails_when_something_is_missing(app, staff):
    dispute_refunded(staff)
    jobs.run_pending()
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["reconcile", "--json"])
    assert clean.exit_code == 0, clean.output
    printed = json.loads(clean.output)
    assert {k: printed["refunds"][k] for k in ("ledger", "provider", "missing", "duplicated")} \
        == {"ledger": 1, "provider": 1, "missing": [], "duplicated": []}
    assert {k: printed["payouts"][k] for k in ("ledger", "provider", "missing", "duplicated")} \
        == {"ledger": 0, "provider": 0, "missing": [], "duplicated": []}
    with store("payments.sqlite3") as provider:
        provider.execute("DELETE FROM refunds")
    clock.freeze(clock.now() + timedelta(hours=1))
    broken = runner.invoke(args=["reconcile", "--json"])
    assert broken.exit_code == 1
    assert len(json.loads(broken.output)["refunds"]["missing"]) == 1
    summary = runner.invoke(args=["reconcile"])
    assert summary.exit_code == 1 and "missing 1" in summary.output


def test_the_periodic_reconciliation_stores_its_result_for_the_console(client, staff):
    dispute_refunded(staff)
    jobs.run_pending()
    tasks_run = run_reconciliation.enqueue_now()
    jobs.run_pending()
    assert tasks_run.return_value() is True
    with db.unit_of_work() as s:
        latest = reconcile.latest_run(s)
        assert (latest.clean, latest.result["refunds"]["provider"]) == (True, 1)
    _, email, password = staff("fraud_analyst")
    sign_in(client, email, password)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Nothing missing, nothing doubled" in html and "scheduled check last ran" in html
    assert "<svg" in html  # effects by state, drawn


# --- a capture whose order was never written ---------------------------------------------------

def test_a_capture_whose_void_got_no_answer_is_voided_by_reconciliation(app, monkeypatch):
    def broken_handler(_s, **_payload):
        raise RuntimeError("a subscriber failed")

    monkeypatch.setitem(events._handlers, events.OrderPlaced, [broken_handler])
    faults(monkeypatch, "timeout=1")
    with pytest.raises(RuntimeError):
        place(new_sale())
    [capture] = payments.provider().received_captures()
    assert payments.provider().received_voids() == []  # the void went unanswered
    faults(monkeypatch, None)
    with settings_changed(RECONCILE_GRACE_SECONDS=0):
        assert [c["provider_ref"] for c in
                reconciled()["voids"]["unvoided_orphan_captures"]] == [capture["provider_ref"]]
        run_reconciliation.enqueue_now()
        jobs.run_pending()
        jobs.run_pending()
        assert [v["provider_ref"] for v in payments.provider().received_voids()] == \
            [capture["provider_ref"]]
        assert the_effect(kind="card_void").state == "delivered"
        run_reconciliation.enqueue_now()
        jobs.run_pending()
        assert len(effects(kind="card_void")) == 1
        assert reconciled()["voids"]["unvoided_orphan_captures"] == []


def test_a_payout_in_flight_without_a_bank_effect_gets_one_from_the_sweep(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    clock.freeze(clock.now() + timedelta(days=3))
    with db.unit_of_work() as s:
        [payout_id] = payouts.start_due_payouts(s)
        # As a payout started before its transfer was an outbox effect.
        s.execute(text("DELETE FROM outbox_effects"))
    assert reconciled()["payouts"]["missing"][0]["effect_state"] is None
    sweep_outbox.enqueue_now()
    jobs.run_pending()
    assert transfers_at_bank() == [(f"payout-{payout_id}", EARNED)]
    assert the_effect(payout_id=payout_id).state == "delivered"
