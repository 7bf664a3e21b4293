"""Counterfeit risk on real parts: generated product photos through the media intake and
store, EfficientNet-Lite0 embeddings, verdicts recorded through the authentication
services, a torch model trained on them, the scoring job on the real queue."""
from __future__ import annotations

import marketplace_core.media  # noqa: F401  isort: skip  (sets OpenCV's pixel limit first)

import html
import io

import numpy as np
import pytest
from sqlalchemy import func, select

from authentication.models import AuthenticationRequest, Reason
from foundation import db, jobs
from foundation.audit.models import AuditEvent
from foundation.errors import ValidationFailed
from marketplace_core.listings.models import Listing
from marketplace_core.seed import generate_catalog
from tests.helpers import sign_in
from vision.counterfeit import features, services, watched
from vision.counterfeit.kind import COUNTERFEIT, checked_params
from vision.counterfeit.model import INPUTS, CounterfeitModel
from vision.counterfeit.models import CounterfeitScore
from vision.counterfeit.tasks import score_listing_risk
from vision.embedding import EMBEDDING_DIM
from vision.modelops.kinds import get_kind

from .counterfeit_history import build_history, post, shady_seller


@pytest.fixture(autouse=True)
def _closed_session(app):
    """Tests read through the scoped session; end its transaction so that the next test's
    TRUNCATE on PostgreSQL is not left waiting."""
    yield
    db.session.remove()


_ARTIFACTS: dict[str, bytes] = {}  # the history is deterministic: train it once per run


def _train(settings):
    history = build_history(settings)
    with db.unit_of_work() as s:
        trained = COUNTERFEIT.train(s, {}, lambda *_: None)
    _ARTIFACTS["default"] = trained.artifact
    return history, trained


def _history_with_model(settings):
    """The history, with the model trained on it installed as the current one."""
    if "default" not in _ARTIFACTS:
        history, _ = _train(settings)
    else:
        history = build_history(settings)
    services.install_model(_ARTIFACTS["default"])
    return history


def _auc(scores, labels) -> float:
    scores, labels = np.array(scores), np.array(labels)
    positives, negatives = scores[labels == 1], scores[labels == 0]
    return float((positives[:, None] > negatives[None, :]).mean()
                 + (positives[:, None] == negatives[None, :]).mean() / 2)


def test_evidence_is_read_from_real_photos_prices_and_the_sellers_record(app, settings):
    history = build_history(settings, items=24)
    s = db.session()
    labels = features.platform_labels(s)
    assert {x.listing_id: x.counterfeit for x in labels} == history.counterfeit

    evidence = features.gather(s, history.listing_ids)

    for listing_id, e in evidence.items():
        assert e.embedding.shape == (EMBEDDING_DIM,)
        assert abs(float(np.linalg.norm(e.embedding)) - 1) < 1e-4
        assert np.isfinite(e.tabular).all() and e.tabular.shape == (len(INPUTS) - 1,)
        # Its own verdict never counts against the seller on its own listing.
        own_strike = history.counterfeit[listing_id]
        others = sum(fake for other, fake in history.counterfeit.items()
                     if other != listing_id and _seller(s, other) == _seller(s, listing_id))
        assert e.facts["counterfeit_verdicts"] == others, (listing_id, own_strike)
    fake_ratios = [e.facts["price_ratio"] for i, e in evidence.items() if history.counterfeit[i]]
    real_ratios = [e.facts["price_ratio"] for i, e in evidence.items()
                   if not history.counterfeit[i]]
    assert np.median(fake_ratios) < np.median(real_ratios)  # the generator's cheap fakes


def _seller(s, listing_id: int) -> int:
    return s.get(Listing, listing_id).seller_id


def test_training_on_verdicts_ranks_held_out_counterfeits_above_authentics(app, settings):
    history, trained = _train(settings)

    held = trained.held_out
    assert len(held.subject_ids) == trained.data_snapshot["held_out"]["listings"] > 0
    assert 0 < sum(held.labels) < len(held.labels)
    assert held.labels == [int(history.counterfeit[i]) for i in held.subject_ids]
    assert all(0 <= score <= 1 for score in held.scores)
    assert _auc(held.scores, held.labels) > 0.5
    # The time split: nothing held out was decided before the last training verdict.
    assert trained.data_snapshot["train"]["to"] <= trained.data_snapshot["held_out"]["from"]
    assert trained.params == {**COUNTERFEIT.default_params()}
    for curve in trained.curves.values():
        assert curve[-1] < curve[0]
    assert_artifact_round_trips_and_scores_with_reasons(history, trained)


def assert_artifact_round_trips_and_scores_with_reasons(history, trained):
    scorer = get_kind("counterfeit").load(trained.artifact)
    with np.load(io.BytesIO(trained.artifact), allow_pickle=False) as arrays:
        assert set(arrays.files) == {"header", "image_weights", "mean", "std", "weights"}

    scores = scorer.score(db.session(), history.listing_ids)

    reloaded = COUNTERFEIT.load(scorer.model.to_bytes()).score(db.session(),
                                                               history.listing_ids)
    assert scores == reloaded
    assert all(0 <= score.value <= 1 for score in scores.values())
    riskiest = max(scores.values(), key=lambda score: score.value)
    assert riskiest.reasons and all(isinstance(r, str) and r for r in riskiest.reasons)
    fakes = [scores[i].value for i in history.listing_ids if history.counterfeit[i]]
    genuine = [scores[i].value for i in history.listing_ids if not history.counterfeit[i]]
    assert np.mean(fakes) > np.mean(genuine)
    with pytest.raises(ValueError):
        CounterfeitModel.from_bytes(b"not an artifact")


def test_training_refuses_bad_parameters_and_too_few_verdicts(app, settings):
    with pytest.raises(ValidationFailed) as bad:
        checked_params({"train_share": 0.9, "validation_share": 0.2, "speed": 3})
    assert bad.value.fields == {"speed": "unknown"}
    with pytest.raises(ValidationFailed) as shares:
        checked_params({"train_share": 0.9, "validation_share": 0.2})
    assert "validation_share" in shares.value.fields
    with pytest.raises(ValidationFailed) as empty:
        COUNTERFEIT.train(db.session(), {}, lambda *_: None)
    assert empty.value.code == "not_enough_labels"


def test_scoring_job_writes_the_risk_to_the_queue_once(app, settings):
    history = _history_with_model(settings)
    fake = next(spec for spec in generate_catalog(40, seed=91) if spec.counterfeit)
    over_threshold = settings.AUTHENTICATION_THRESHOLD_PAISE + 500_000
    listing_id = post(shady_seller(history), fake, price_paise=over_threshold)

    # Publishing enqueued the scoring job (after the commit, by id): the worker runs it.
    assert jobs.queue("vision").count >= 1
    jobs.run_pending(["vision"])

    s = db.session()
    request = s.scalar(select(AuthenticationRequest).where(
        AuthenticationRequest.listing_id == listing_id))
    stored = s.get(CounterfeitScore, listing_id)
    assert request.risk_score == stored.score and request.risk_reasons == stored.reasons
    assert stored.reasons
    high = stored.score >= settings.VISION_COUNTERFEIT_REVIEW_THRESHOLD
    assert request.priority == (1 if high else 0)
    before = (s.scalar(select(func.count()).select_from(AuditEvent)), stored.scored_at)

    again = score_listing_risk(listing_id)  # at-least-once: the job runs a second time

    db.session.remove()
    s = db.session()
    assert again["status"] == "unchanged"
    assert s.scalar(select(func.count()).select_from(CounterfeitScore)) >= 1
    assert (s.scalar(select(func.count()).select_from(AuditEvent)),
            s.get(CounterfeitScore, listing_id).scored_at) == before


def test_scoring_every_watched_listing_in_batches_matches_scoring_each_alone(app, settings):
    """`flask vision score-risk`'s path: every watched listing scored in batches (photos
    through the network together), each score the one the single-listing job gives; the
    marks are cleared and their waiting jobs deleted; a second pass changes nothing."""
    from vision.counterfeit import tasks
    from vision.counterfeit.models import CounterfeitPending

    history = _history_with_model(settings)
    specs = [spec for spec in generate_catalog(40, seed=93)][:3]
    posted = [post(shady_seller(history), spec) for spec in specs]
    s = db.session()
    watched_ids = watched.watched_listing_ids(s)
    assert set(posted) <= set(watched_ids) and len(watched_ids) > tasks.SCORE_BATCH
    assert jobs.queue("vision").count >= len(posted)   # the posts queued their scoring
    progress = []

    outcomes = tasks.score_watched_now(s, lambda done, total: progress.append((done, total)))

    assert outcomes == {"scored": len(watched_ids)}
    assert progress[-1] == (len(watched_ids), len(watched_ids)) and len(progress) > 1
    batched = dict(s.execute(select(CounterfeitScore.listing_id,
                                    CounterfeitScore.score)).all())
    assert set(batched) == set(watched_ids)
    # A mark stays only where the scoring itself changed the listing (holding a risky one
    # for review marks it again) or where there is nothing to score (removed listings).
    marked = set(s.scalars(select(CounterfeitPending.listing_id)))
    held = set(s.scalars(select(Listing.id).where(Listing.status == "pending_authentication")))
    assert marked & set(watched_ids) <= held
    waiting = {job.args[1][0] for job in jobs.queue("vision").jobs
               if job.args[0].endswith("score_listing_risk")}
    assert waiting <= marked   # the jobs of the scored listings were deleted
    assert tasks.score_watched_now(s) == {"unchanged": len(watched_ids)}
    for listing_id in posted:   # alone, through the single-listing path
        s.delete(s.get(CounterfeitScore, listing_id))
        s.commit()
        assert services.score_listing(s, listing_id).score == pytest.approx(
            batched[listing_id], abs=1e-4)
    s.rollback()


def test_a_risky_listing_under_the_threshold_leaves_search_and_enters_review(
        app, settings, client, staff):
    history = _history_with_model(settings)
    specs = generate_catalog(60, seed=92, counterfeit_rate=0.3)
    fake = next(spec for spec in specs if spec.counterfeit
                and spec.price_paise <= settings.AUTHENTICATION_THRESHOLD_PAISE)
    genuine = next(spec for spec in specs if not spec.counterfeit
                   and spec.price_paise <= settings.AUTHENTICATION_THRESHOLD_PAISE)
    risky = post(shady_seller(history), fake)
    safe = post(history.sellers[-1], genuine)
    assert _search_ids(client, fake.brand_name) >= {risky}

    jobs.run_pending(["vision"])

    assert risky not in _search_ids(client, fake.brand_name)
    with db.unit_of_work() as s:
        threshold = settings.VISION_COUNTERFEIT_REVIEW_THRESHOLD
        assert s.get(CounterfeitScore, risky).score >= threshold
        assert s.get(CounterfeitScore, safe).score < threshold
        assert s.get(Listing, risky).status == "pending_authentication"
        assert s.get(Listing, safe).status == "live"
        request = s.scalar(select(AuthenticationRequest).where(
            AuthenticationRequest.listing_id == risky))
        assert request.reason == Reason.RISK and request.state == "queued"
        assert request.risk_score == s.get(CounterfeitScore, risky).score
        assert request.priority == 1
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "listing.held_for_risk",
                                                  AuditEvent.object_id == str(risky)))
        assert audit.after["reasons"] == request.risk_reasons
    assert_staff_see_the_score_and_its_reasons(app, staff, request)


def assert_staff_see_the_score_and_its_reasons(app, staff, request) -> None:
    reviewer = app.test_client()
    sign_in(reviewer, staff("authenticator")[1])
    workspace = reviewer.get(f"/console/authentication/{request.id}")
    assert workspace.status_code == 200
    shown = html.unescape(workspace.get_data(as_text=True))
    assert f"{request.risk_score:.2f}" in shown
    assert all(reason in shown for reason in request.risk_reasons)
    listing_page = f"/console/listings/details/?id={request.listing_id}"
    analyst = app.test_client()
    sign_in(analyst, staff("fraud_analyst")[1])
    page = html.unescape(analyst.get(listing_page).get_data(as_text=True))
    assert 'data-testid="counterfeit-risk"' in page and request.risk_reasons[0] in page
    support = app.test_client()
    sign_in(support, staff("support_agent")[1])  # sees listings, not vision
    page = support.get(listing_page)
    assert page.status_code == 200 and b'data-testid="counterfeit-risk"' not in page.data


def _search_ids(client, text: str) -> set[int]:
    response = client.get("/api/v1/listings", query_string={"q": text, "limit": 100})
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def _registry_version(analyst_id: int, params: dict) -> int:
    """A counterfeit version trained the way analysts do: the registry's run, the worker."""
    from foundation.staff.models import StaffUser
    from vision.modelops import services as registry
    from vision.modelops.models import ModelVersion, TrainingRun

    with db.unit_of_work() as s:
        run_id = registry.start_training(s, "counterfeit", params,
                                         s.get(StaffUser, analyst_id)).id
    jobs.run_pending(["vision"])
    with db.unit_of_work() as s:
        version = s.scalar(select(ModelVersion).where(ModelVersion.training_run_id == run_id))
        assert version is not None, s.get(TrainingRun, run_id).error
        return version.id


def test_the_promoted_champion_scores_beside_its_shadow_at_the_analysts_threshold(
        app, settings, staff):
    """What analysts promote is what scores listings (the promotion rescores every live or
    waiting listing); a shadow is scored beside it on the same listing; the threshold they
    chose for the champion is the one acted on (here one no score reaches, so even the
    riskiest listing stays live)."""
    from foundation.staff.models import StaffUser
    from vision.modelops import services as registry
    from vision.modelops.models import ShadowScore, ThresholdSetting

    history = build_history(settings)
    analyst_id = staff("fraud_analyst")[0]
    champion_id = _registry_version(analyst_id, {})
    challenger_id = _registry_version(analyst_id, {"seed": 3})
    with db.unit_of_work() as s:
        analyst = s.get(StaffUser, analyst_id)
        registry.promote(s, analyst, champion_id)
        registry.start_shadow(s, analyst, challenger_id)
        s.add(ThresholdSetting(kind="counterfeit", version_id=champion_id, threshold=1.0,
                               target="test: nothing is high risk", set_by=analyst_id))
        assert services.current_model(s).promoted
    fake = next(spec for spec in generate_catalog(60, seed=92, counterfeit_rate=0.3)
                if spec.counterfeit
                and spec.price_paise <= settings.AUTHENTICATION_THRESHOLD_PAISE)
    risky = post(shady_seller(history), fake)

    jobs.run_pending(["vision"])

    with db.unit_of_work() as s:
        watched_ids = set(watched.watched_listing_ids(s))  # promotion rescored them all
        assert watched_ids and watched_ids <= set(s.scalars(select(CounterfeitScore.listing_id)))
        stored = s.get(CounterfeitScore, risky)
        shadow = s.scalar(select(ShadowScore).where(ShadowScore.subject_id == risky))
        assert (shadow.version_id, shadow.champion_version_id) == (challenger_id, champion_id)
        assert shadow.champion_score == pytest.approx(stored.score)
        assert s.get(Listing, risky).status == "live"
