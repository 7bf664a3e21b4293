"""Operator commands: `flask db ...`, `flask create-staff`, `flask worker`, `flask rq-status`."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from authentication.seed import review_history, work_demo_backlog
from console import composition
from disputes.seed import open_demo_cases, settle_past_cases
from foundation import clock, db, jobs
from foundation.errors import DomainError
from foundation.migrations import check_schema, downgrade, make_revision, upgrade
from foundation.staff import services as staff_services
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Role
from marketplace_core.members.models import Member
from marketplace_core.outbox.cli import reconcile_command
from marketplace_core.seed.demo import seed_demo
from marketplace_core.seed.returning import plant_returning_photos
from marketplace_core.shipping.cli import carrier_group
from trust.recommender.cli import recommendations_group
from trust.signals.cli import trust_group
from vision.cli import vision_group
from vision.modelops import services
from vision.planted import flag_planted_duplicates


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(create_staff)
    app.cli.add_command(worker)
    app.cli.add_command(rq_status)
    app.cli.add_command(run_pending_jobs)
    app.cli.add_command(seed)
    app.cli.add_command(carrier_group)
    app.cli.add_command(train_model)
    app.cli.add_command(vision_group)
    app.cli.add_command(trust_group)
    app.cli.add_command(recommendations_group)
    app.cli.add_command(reconcile_command)


def _settings():
    return current_app.config["SETTINGS"]


db_group = AppGroup("db", help="Database schema (Alembic migrations).")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    upgrade(_settings().DATABASE_URL, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str):
    downgrade(_settings().DATABASE_URL, revision)
    click.echo(f"database at {revision}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str):
    """Write a new migration from the difference between the models and the database."""
    path = make_revision(_settings().DATABASE_URL, message)
    click.echo(f"wrote {path}")


@db_group.command("check")
def db_check():
    """Fail when the database schema differs from what the models declare."""
    differences = check_schema(_settings().DATABASE_URL)
    if differences:
        for line in differences:
            click.echo(line, err=True)
        sys.exit(1)
    click.echo("schema matches the models")


@click.command("create-staff")
@with_appcontext
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--password", default=None,
              help="For scripts; without it you are prompted (input hidden).")
def create_staff(email: str, role: str, display_name: str | None, password: str | None):
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.unit_of_work() as s:
            staff = staff_services.create_staff(s, _settings(), email=email, role=role,
                                                password=password, display_name=display_name,
                                                actor=None)
            staff_id = staff.id
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from None
    click.echo(f"created staff #{staff_id} {email.lower()} ({role})")


@click.command("worker")
@with_appcontext
@click.option("--queues", default=",".join(jobs.QUEUES), show_default=True,
              help="Comma-separated queues, highest priority first.")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(queues: str, burst: bool):
    """Run an RQ worker with the scheduler and the periodic beat."""
    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [n for n in names if n not in jobs.QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown queues: {', '.join(unknown)}")
    composition.wire()
    jobs.run_worker(names, burst=burst, beat_seconds=_settings().PERIODIC_BEAT_SECONDS)


@click.command("run-pending-jobs")
@with_appcontext
def run_pending_jobs():
    """Run every queued job now in this process, then exit."""
    composition.wire()
    click.echo(f"ran {jobs.run_pending()} jobs")


@click.command("rq-status")
@with_appcontext
@click.option("--json", "as_json", is_flag=True)
def rq_status(as_json: bool):
    """Queues, workers and recent failures."""
    health = jobs.health()
    if as_json:
        click.echo(json.dumps(health, indent=2))
        return
    click.echo(f"redis: {health['redis']}")
    click.echo(f"{'queue':<10} {'queued':>7} {'running':>8} {'sched':>6} {'failed':>7}")
    for q in health["queues"]:
        click.echo(f"{q['name']:<10} {q['queued']:>7} {q['started']:>8} {q['scheduled']:>6} "
                   f"{q['failed']:>7}")
    click.echo(f"workers: {len(health['workers'])}")
    for w in health["workers"]:
        click.echo(f"  {w['name']} {w['state']} queues={','.join(w['queues'])}")
    for j in health["failed_jobs"][:10]:
        click.echo(f"failed {j['id']} {j['task']}: {j['error']}")


def staged_progress_bars():
    """progress(stage, done, total): one terminal progress bar per stage, in turn."""
    bars: dict[str, object] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = click.progressbar(length=total, label=f"{stage[:28]:<28}",
                                                  show_pos=True)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress


@click.command("seed")
@click.option("--listings", "listings_count", default=2000, show_default=True,
              type=click.IntRange(10, 1_000_000))
@click.option("--seed", "seed_value", default=7, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Processes that render photos.")
@click.option("--review-history", "history_share", default=0.3, show_default=True,
              type=click.FloatRange(0, 1),
              help="Share of cheaper live listings the team reviewed in the past (the "
                   "verdicts the counterfeit-risk model learns from).")
@with_appcontext
def seed(listings_count: int, seed_value: int, workers: int, history_share: float):
    """Fill an empty database with a deterministic demo marketplace."""
    with db.unit_of_work() as s:
        if s.scalar(select(func.count()).select_from(Member)):
            raise click.ClickException("The database already has members; seed an empty one.")
    report = seed_demo(listings_count=listings_count, seed=seed_value,
                       progress=staged_progress_bars(), workers=workers)

    reviews = work_demo_backlog(seed_value, clock.now())
    history = review_history(seed_value, clock.now(), history_share)
    returning = plant_returning_photos(seed_value, clock.now())
    past_cases = settle_past_cases(seed_value, clock.now())
    cases = open_demo_cases(seed_value, clock.now())
    with db.unit_of_work() as s:
        duplicates = flag_planted_duplicates(s)
    click.echo(json.dumps({**report.__dict__, "authentication_reviews": reviews,
                           "authentication_history": history, "returning_photos": returning,
                           "past_dispute_cases": past_cases,
                           "dispute_cases": cases, "planted_duplicates": duplicates},
                          indent=2, default=str))


@click.command("train-model")
@click.argument("kind")
@click.option("--staff", "email", required=True,
              help="The analyst the run is recorded and audited for (vision.manage_models).")
@click.option("--params", default="{}", show_default=True,
              help="A JSON object over the kind's default parameters.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Train in this process with a progress bar, or leave it to a worker.")
@click.option("--promote", is_flag=True,
              help="Promote the trained version to champion (audited for --staff).")
@with_appcontext
def train_model(kind: str, email: str, params: str, wait: bool, promote: bool):
    """Train a new candidate version of a vision model (the same run the console starts)."""

    if promote and not wait:
        raise click.ClickException("--promote needs the trained version: leave out --no-wait")
    try:
        parsed = json.loads(params)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"--params is not valid JSON: {exc.msg}") from exc
    try:
        with db.unit_of_work() as s:
            staff = s.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
            if staff is None:
                raise click.ClickException(f"no staff account {email}")
            run_id = services.start_training(s, kind, parsed, staff).id
    except DomainError as exc:
        fields = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {fields}".strip()) from exc
    if not wait:
        click.echo(f"training run {run_id} queued for a worker")
        return
    bars = staged_progress_bars()
    # The job a worker may pick up later finds the run taken and does nothing.
    with db.unit_of_work() as s:
        version = services.train_run(s, run_id, also_report=lambda d, t, m: bars(m, d, t))
        version_id = None if version is None else version.id
    with db.unit_of_work() as s:
        run = services.get_run(s, run_id)
        if version_id is None:
            raise click.ClickException(f"training run {run_id} {run.state}: {run.error}")
        click.echo(f"training run {run_id} succeeded: {run.message}")
    if promote:
        _promote(email, version_id, kind)


def _promote(email: str, version_id: int, kind: str) -> None:
    try:
        with db.unit_of_work() as s:
            staff = s.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
            label = services.promote(s, staff, version_id).label
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{label} is now the {kind} champion")
