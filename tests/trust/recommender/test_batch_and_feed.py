"""The batch end to end (a real RQ job), the model against popularity, the member API."""
from __future__ import annotations

from sqlalchemy import func, select

from foundation import db, jobs
from tests.builders.members import headers_for, register
from tests.trust.support import precompute_through_the_queue
from trust.recommender import model as rec_model
from trust.recommender import runs
from trust.recommender.catalogue import load_catalogue
from trust.recommender.evaluation import evaluate
from trust.recommender.impressions import buffered_pages
from trust.recommender.interactions import load_follows, load_interactions
from trust.recommender.models import FeedImpression, MemberCandidates, RecommendationRun
from trust.recommender.training import train_ranker
from trust.signals.models import ItemRiskRecord
from trust.signals.scoring import score_item
from trust.weights import TrustWeights

FEED = "/api/v1/feed/just-picked"


def test_the_precompute_job_stores_every_members_candidates(world):
    run_id = precompute_through_the_queue()
    with db.unit_of_work() as s:
        run = s.get(RecommendationRun, run_id)
        assert run.state == "succeeded", run.error
        assert run.model_id is not None and run.popular
        stored = s.scalar(select(func.count()).select_from(MemberCandidates))
        assert stored >= len(world.member_ids) * 0.9
        row = s.get(MemberCandidates, world.member_ids[0])
        assert row.candidates and row.profile["brands"]
        seen = {i.listing_id for i in load_interactions(s, member_id=row.member_id)}
        assert not seen & {c[0] for c in row.candidates}   # never what they already touched
    # A second delivery of the same job changes nothing.
    with db.unit_of_work() as s:
        assert runs.execute(s, run_id) is None


def test_a_second_run_of_a_kind_waits_for_the_first(world):
    with db.unit_of_work() as s:
        runs.start_run(s, "train", "test", enqueue=False)
    with db.unit_of_work() as s:
        try:
            runs.start_run(s, "train", "test", enqueue=False)
        except Exception as exc:   # noqa: BLE001
            assert getattr(exc, "code", "") == "run_in_progress"
        else:
            raise AssertionError("a second pending run was accepted")


def test_the_learned_ranker_beats_popularity(world):
    with db.unit_of_work() as s:
        cat = load_catalogue(s)
        interactions = load_interactions(s)
        follows = load_follows(s)
    trained = train_ranker(cat, interactions, follows)
    state = rec_model.build_state(cat, interactions, follows, world.cut)
    truth = {m: items for m, items in world.test.items() if m in state.profiles}
    ours = {m: [x[0] for x in rec_model.score_candidates(state, trained.ranker, m, 12)]
            for m in truth}
    popular = {m: rec_model.recommend_popularity(state, m, 12) for m in truth}
    ours_ndcg = evaluate(ours, truth, resamples=50)["ndcg@12"]["mean"]
    popular_ndcg = evaluate(popular, truth, resamples=50)["ndcg@12"]["mean"]
    assert ours_ndcg > popular_ndcg, (ours_ndcg, popular_ndcg)


def test_the_member_feed_serves_with_reasons_and_records_impressions(client, world):
    precompute_through_the_queue()
    member = world.member_ids[0]
    response = client.get(f"{FEED}?limit=8", headers=headers_for(member))
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert 0 < len(items) <= 8
    assert all(item["reason"] and item["price_paise"] > 0 and item["seller_id"]
               for item in items)
    with db.unit_of_work() as s:   # buffered in Redis until the periodic flush
        assert not s.scalars(select(FeedImpression.id)).all()
    assert buffered_pages() == 1
    jobs.execute("trust.recommender.tasks.flush_feed_impressions", [], {})
    with db.unit_of_work() as s:
        shown = s.scalars(select(FeedImpression.listing_id)
                          .where(FeedImpression.member_id == member)
                          .order_by(FeedImpression.position)).all()
    assert shown == [item["id"] for item in items]
    assert buffered_pages() == 0


def test_the_feed_needs_a_member_and_a_sane_limit(client, world):
    assert client.get(FEED).status_code == 401
    headers = headers_for(world.member_ids[1])
    for bad in ("0", "61", "ten", "-3"):
        response = client.get(f"{FEED}?limit={bad}", headers=headers)
        assert response.status_code == 422, bad
        assert response.json["error"]["fields"] == {"limit": response.json["error"]["fields"]
                                                     ["limit"]}


def test_an_item_marked_excluded_never_appears_again(client, world):
    precompute_through_the_queue()
    member = world.member_ids[2]
    headers = headers_for(member)
    first = [item["id"] for item in client.get(FEED, headers=headers).json["items"]]
    assert first
    victim = first[0]
    with db.unit_of_work() as s:
        seller = world.listing_seller[victim]
        risk = score_item(victim, seller, status="live", authenticated=False,
                          counterfeit_verdict=True, counterfeit_score=None, duplicates=(),
                          weights=TrustWeights())
        s.merge(ItemRiskRecord(listing_id=victim, seller_id=seller, excluded=True,
                               exclusion_reason=risk.exclusion_reason, flagged=False,
                               flag_confidence=0.0, reasons=list(risk.reasons)))
    for _ in range(2):
        again = [item["id"] for item in client.get(FEED, headers=headers).json["items"]]
        assert again and victim not in again


def test_a_member_the_batch_never_saw_gets_a_cold_start_page(client, world):
    precompute_through_the_queue()
    newcomer = register(client)
    response = client.get(FEED, headers=newcomer["headers"])
    assert response.status_code == 200
    assert len(response.json["items"]) == 12
    assert {item["reason"] for item in response.json["items"]} == {"popular right now"}


def test_the_cli_trains_then_precomputes_with_a_progress_bar(app, world):
    runner = app.test_cli_runner()
    trained = runner.invoke(args=["recommendations", "train"])
    assert trained.exit_code == 0, trained.output
    assert '"state": "succeeded"' in trained.output and "ranker" in trained.output
    stored = runner.invoke(args=["recommendations", "precompute"])
    assert stored.exit_code == 0, stored.output
    assert "members' candidates stored" in stored.output
    with db.unit_of_work() as s:
        kinds = [r.kind for r in s.scalars(select(RecommendationRun)
                                           .order_by(RecommendationRun.id))]
        assert kinds == ["train", "precompute"]
        assert s.scalar(select(func.count()).select_from(MemberCandidates)) > 0


def test_a_run_whose_worker_died_is_failed_by_the_sweep(app):
    from datetime import timedelta

    from foundation import clock
    from trust.recommender.tasks import fail_lost_recommendation_runs

    with db.unit_of_work() as s:
        run_id = runs.start_run(s, "precompute", "test", enqueue=False).id
    clock.freeze(clock.now() + timedelta(hours=3))
    with db.unit_of_work():   # as the job wrapper runs it
        fail_lost_recommendation_runs()
    with db.unit_of_work() as s:
        run = s.get(RecommendationRun, run_id)
        assert run.state == "failed" and "worker stopped" in run.error
        assert runs.start_run(s, "precompute", "test", enqueue=False).state == "pending"
