"""Just Picked for You, measured: popularity, implicit ALS, ours without and with trust.

    python -m bench.recommendations --json OUT [--database-url URL] [--listings N] ...

The data are GENERATED (bench/recommendation_data.py): a scratch database (an SQLite file
by default) gets members with latent tastes, sellers of every kind, listings, interactions
over 60 days, counterfeits (some confirmed after the batch ran), flagged items, and trust
rows written with the product's scoring.  Interactions are split in time (the last 20%
are the test).  The product's own batch (`trust.recommender.runs`: train, then
precompute as of the cut) stores the candidates; ours is served by the product's online
path (`trust.recommender.feed.just_picked`), with and without the trust re-ranking; the
baselines are fitted on the same interactions.  Latency is measured through the real
member API at the generated catalogue's size.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta

from bench.common import percentiles, progress, write_json

K = 12


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", default=None)
    parser.add_argument("--database-url", default=None,
                        help="a scratch database (default: an SQLite file in a temp folder)")
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--sellers", type=int, default=1500)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--eval-members", type=int, default=1500)
    parser.add_argument("--latency-requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weights", default=None,
                        help="trust weights as JSON (a weights version, as analysts set "
                             "them); default: the product's defaults")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="bench-rec-")
    url = args.database_url or f"sqlite:///{folder}/recommendations.db"
    result = run(url, folder, args)
    write_json(args.json, result)
    print_table(result)


def run(url: str, folder: str, args) -> dict:
    from bench.recommendation_data import Size, confirm_later, generate
    from console import create_app
    from foundation import clock, db
    from foundation.migrations import upgrade

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "APP_ENV": "test", "INSTANCE_PATH": folder,
                      "SECRET_KEY": "bench-" + "k" * 40})
    timings = {}
    started = time.perf_counter()
    with db.unit_of_work() as s:
        world = generate(s, Size(members=args.members, sellers=args.sellers,
                                 listings=args.listings), seed=args.seed)
    timings["generate_s"] = round(time.perf_counter() - started, 1)
    print(f"generated {world.counts}", file=sys.stderr)
    clock.freeze(world.cut + timedelta(minutes=30))

    started = time.perf_counter()
    precompute_run = _batch(world)
    timings["train_and_precompute_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    state = _baseline_state(world)
    timings["baselines_fit_s"] = round(time.perf_counter() - started, 1)

    with db.unit_of_work() as s:   # the verdicts that land after the batch
        confirm_later(s, world, world.listing_seller)
        weights = _set_weights(s, args.weights)

    members = _evaluated_members(world, state, args.eval_members, args.seed)
    pages = _pages(world, state, members)
    methods = {name: _quality(pages[name], world, members) for name in pages}
    exposure = _exposure(pages, world)
    latency = _latency(app, world, members, args.latency_requests, args.seed)
    db.dispose_all()
    return {"data": "generated (bench/recommendation_data.py)", "counts": world.counts,
            "cut": world.cut.isoformat(), "evaluated_members": len(members),
            "methods": methods, "exposure": exposure, "latency_ms": latency,
            "rerank_ms": _rerank_cost(), "batch": precompute_run, "timings": timings,
            "trust_weights": weights,
            "cores": os.cpu_count(),
            "goals": {"ndcg_vs_popularity": 2.0, "ndcg_vs_als": 1.05,
                      "trust_ndcg_cost_max": 0.03, "confirmed_counterfeit_impressions": 0,
                      "flagged_reduction_vs_als_min": 0.90, "flagged_share_max": 0.001,
                      "new_seller_exposure_kept_min": 0.90, "feed_p99_ms_max": 25}}


def _set_weights(s, raw: str | None) -> dict:
    """Analyst-set weights go in as a weights version, exactly as the console saves them."""
    import json

    from trust.signals.models import TrustWeightsVersion
    from trust.weights import TrustWeights

    if not raw:
        return {"version": 0, **TrustWeights().as_dict()}
    weights = TrustWeights.from_mapping(json.loads(raw))
    s.add(TrustWeightsVersion(version=1, weights=weights.as_dict(), note="benchmark"))
    s.flush()
    return {"version": 1, **weights.as_dict()}


def _batch(world) -> dict:
    from foundation import db
    from trust.recommender import runs

    with db.unit_of_work() as s:
        run_id = runs.start_run(s, "precompute", "bench", enqueue=False).id
    with db.unit_of_work() as s:
        run = runs.execute(s, run_id, as_of=world.cut, also_report=_stderr_progress)
        sys.stderr.write("\n")
        if run.state != "succeeded":
            raise SystemExit(f"the precompute failed: {run.error}")
        return {"run": run.id, "model": run.model_id, "metrics": run.metrics}


def _stderr_progress(done: int, total: int, message: str) -> None:
    sys.stderr.write(f"\r{message:<28} {done}/{total}   ")
    sys.stderr.flush()


def _baseline_state(world):
    from foundation import db
    from trust.recommender.catalogue import load_catalogue
    from trust.recommender.interactions import load_follows, load_interactions
    from trust.recommender.model import build_state

    with db.unit_of_work() as s:
        cat = load_catalogue(s)
        interactions = load_interactions(s, until=world.cut)
        follows = load_follows(s, until=world.cut)
    return build_state(cat, interactions, follows, world.cut)


def _evaluated_members(world, state, limit: int, seed: int) -> list[int]:
    eligible = sorted(m for m in world.test if m in state.profiles)
    random.Random(seed).shuffle(eligible)
    return sorted(eligible[:limit])


def _pages(world, state, members: list[int]) -> dict[str, dict[int, list[int]]]:
    from foundation import db
    from trust.recommender import feed
    from trust.recommender import model as rec_model

    pages = {"popularity": {}, "als": {}, "ours_no_trust": {}, "ours": {}}
    for m in progress(members, len(members), "pages of every method"):
        pages["popularity"][m] = rec_model.recommend_popularity(state, m, K)
        pages["als"][m] = rec_model.recommend_als(state, m, K)
        with db.unit_of_work() as s:
            served = feed.just_picked(s, m, K, record=False, compare=True)
        pages["ours"][m] = [i.listing_id for i in served.page.items]
        pages["ours_no_trust"][m] = [i.listing_id for i in served.without_trust.items]
    return pages


def _quality(pages: dict[int, list[int]], world, members: list[int]) -> dict:
    from trust.recommender.evaluation import evaluate

    truth = {m: world.test[m] for m in members}
    return evaluate(pages, truth, K)


def _exposure(pages, world) -> dict:
    per_method = {}
    for name, by_member in pages.items():
        shown = [lid for page in by_member.values() for lid in page]
        total = max(1, len(shown))
        per_method[name] = {
            "impressions": len(shown),
            "confirmed_counterfeit_impressions": sum(lid in world.confirmed_later
                                                     for lid in shown),
            "counterfeit_impressions": sum(lid in world.counterfeit for lid in shown),
            "flagged_impressions": sum(lid in world.flagged for lid in shown),
            "flagged_share": round(sum(lid in world.flagged for lid in shown) / total, 5),
            "new_seller_share": round(sum(world.seller_kind.get(world.listing_seller[lid])
                                          == "new" for lid in shown) / total, 4)}
    als_flagged = per_method["als"]["flagged_share"]
    ours = per_method["ours"]
    return {"by_method": per_method,
            "confirmed_counterfeit_impressions": ours["confirmed_counterfeit_impressions"],
            "flagged_share": ours["flagged_share"],
            "flagged_reduction_vs_als": (round(1 - ours["flagged_share"] / als_flagged, 4)
                                         if als_flagged else None),
            "new_seller_share": ours["new_seller_share"],
            "new_seller_share_no_trust": per_method["ours_no_trust"]["new_seller_share"],
            "new_seller_exposure_kept": (
                round(ours["new_seller_share"]
                      / per_method["ours_no_trust"]["new_seller_share"], 4)
                if per_method["ours_no_trust"]["new_seller_share"] else None)}


def _latency(app, world, members: list[int], requests: int, seed: int) -> dict:
    """The member API end to end (token, candidates, fresh listings, trust, re-rank,
    listing summaries, the impressions insert, JSON), as the apps call it."""
    from foundation import db
    from marketplace_core.members import services as member_services
    from marketplace_core.members.models import Member

    rng = random.Random(seed)
    chosen = [rng.choice(members) for _ in range(requests)]
    headers = {}
    with db.unit_of_work() as s:
        for m in set(chosen):
            token = member_services.issue_token(s, s.get(Member, m))
            headers[m] = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    samples = []
    for i, m in enumerate(chosen):
        started = time.perf_counter()
        response = client.get(f"/api/v1/feed/just-picked?limit={K}", headers=headers[m])
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"the feed answered {response.status_code}: {response.json}")
        if i >= 10:   # the first requests warm the process
            samples.append(elapsed)
    result = percentiles(samples)
    result["listings"] = world.counts["listings"]
    return result


def _rerank_cost() -> dict:
    """The pure re-ranking alone: 300 candidates, a realistic mix of trust."""
    from trust.recommender.rerank import Candidate, rerank
    from trust.types import ItemRisk, SellerTier, SellerTrust
    from trust.weights import TrustWeights

    rng = random.Random(1)
    candidates = [Candidate(i, i % 40, rng.random(), "brand") for i in range(300)]
    items = {i: ItemRisk(i, i % 40, flagged=rng.random() < 0.05, flag_confidence=0.7,
                         authenticated=rng.random() < 0.1) for i in range(300)}
    tiers = list(SellerTier)
    sellers = {s: SellerTrust(s, 0.5 + rng.random() / 2, tiers[s % len(tiers)], 0.8)
               for s in range(40)}
    weights = TrustWeights()
    samples = []
    for _ in range(500):
        started = time.perf_counter()
        rerank(candidates, items, sellers, weights, K)
        samples.append((time.perf_counter() - started) * 1000)
    return {**percentiles(samples[50:]), "candidates": 300}


def _cell(metrics: dict, name: str) -> str:
    v = metrics[name]
    return f"{v['mean']:.4f} [{v['ci95'][0]:.3f},{v['ci95'][1]:.3f}]"


def print_table(result: dict) -> None:
    print(f"\n{'method':<15} {'NDCG@12':>18} {'recall@12':>18} {'MAP@12':>18} "
          f"{'flagged':>8} {'new sellers':>11} {'cf. conf.':>9}")
    for name, m in result["methods"].items():
        e = result["exposure"]["by_method"][name]
        print(f"{name:<15} {_cell(m, 'ndcg@12'):>18} {_cell(m, 'recall@12'):>18} "
              f"{_cell(m, 'map@12'):>18} "
              f"{e['flagged_share']:>8.4f} {e['new_seller_share']:>11.3f} "
              f"{e['confirmed_counterfeit_impressions']:>9}")
    lat = result["latency_ms"]
    print(f"\nfeed API at {lat['listings']:,} listings: p50 {lat['p50']} ms, p99 {lat['p99']} ms;"
          f" re-rank of 300 candidates p99 {result['rerank_ms']['p99']} ms")


if __name__ == "__main__":
    main()
