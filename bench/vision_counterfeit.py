"""Does the counterfeit-risk score put counterfeits at the top of the list?

    python -m bench.vision_counterfeit --listings 1200 --json bench/out/counterfeit.json

THE DATA ARE GENERATED: the demo seed (marketplace_core.seed) draws the products, their
photos and which ones are counterfeit, so the figures say how well the model reads the
generator's flaws, prices and sellers, not how it would do on real fakes.

1. Seeds a demo catalogue of --listings listings into a fresh SQLite database (the real
   services, real photos), works the authentication backlog as `flask seed` does, and
   records the team's past reviews (authentication.seed.review_history) of cheaper live
   listings listed before the cut (--cut: the share of the month before it), with two
   seniors so that counterfeits are confirmed, banked and strike their sellers.
2. Trains the "counterfeit" kind on those verdicts only (its own time split: training,
   calibration, held-out verdicts).
3. Scores every listing listed after the cut that has no verdict (the model never saw
   them) and reports, by the generator's ground truth (DemoListingTruth, read here and
   nowhere in training or scoring), the share of counterfeits among the top 5% of risk
   scores for: ours (the calibrated combination), price only (how far below the brand's
   median), image only (the image head on the photos' embeddings), and the seller's record
   alone (earlier counterfeit verdicts + strikes + dispute losses); and each one's AUC.
"""
from __future__ import annotations

# The media package must load before anything imports cv2 (it sets OpenCV's pixel limit).
import marketplace_core.media  # noqa: F401  isort: skip

import argparse
import math
import sys
import tempfile
import time
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from bench.common import progress, write_json

GOAL_TOP5 = 0.80
TOP_SHARE = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--history-share", type=float, default=0.7,
                        help="share of cheaper live listings reviewed before the cut")
    parser.add_argument("--cut", type=float, default=0.6,
                        help="share of the seeded month before the train/evaluate cut")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print("Generated data: the demo seed draws every product, photo and counterfeit.",
          file=sys.stderr)
    started = time.perf_counter()
    app = _fresh_app()
    with app.app_context():
        result = run(args)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    write_json(args.json, result)
    _print_summary(result)


def _fresh_app():
    from console import create_app
    from foundation.migrations import upgrade
    from foundation.redis_conn import embedded_url

    folder = tempfile.mkdtemp(prefix="bench-counterfeit-")
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    return create_app({"DATABASE_URL": url, "APP_ENV": "test", "INSTANCE_PATH": folder,
                       "REDIS_URL": embedded_url(folder), "SECRET_KEY": "bench-" + "k" * 40,
                       "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024,
                       "PASSWORD_HASH_PARALLELISM": 1})


def run(args) -> dict:
    from foundation import clock, db
    from foundation.config import current as settings
    from foundation.staff import services as staff_services

    with db.unit_of_work() as s:
        for index in range(2):
            staff_services.create_staff(s, settings(), email=f"senior{index}@bench.test",
                                        role="senior_authenticator",
                                        password="bench-password-" + "x" * 12)
    seeded = _seed(args)
    cut = seeded["start"] + timedelta(days=30 * args.cut)
    from authentication.seed import review_history, work_demo_backlog

    backlog = work_demo_backlog(args.seed, clock.now())
    history = review_history(args.seed, clock.now(), args.history_share, listed_before=cut)
    trained, scorer = _train()
    evaluation = _evaluate(scorer, cut, set(trained.held_out.subject_ids))
    return {"generated_data": True, "listings": args.listings, "seed": args.seed,
            "backlog_reviews": backlog, "history_reviews": history,
            "training": trained.data_snapshot, "params": trained.params,
            "held_out_verdicts": _held_out_summary(trained), **evaluation,
            "combiner_weights": _combiner_weights(scorer),
            "goal_top5_share": GOAL_TOP5}


def _seed(args) -> dict:
    from foundation import clock
    from marketplace_core.seed.demo import seed_demo

    bars: dict[str, tuple[int, float]] = {}

    def seed_progress(stage: str, done: int, total: int) -> None:
        bars.setdefault(stage, (total, time.perf_counter()))
        if done == total or done % max(1, total // 50) == 0:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r{stage:<28} [{'#' * filled}{'.' * (30 - filled)}] "
                             f"{done}/{total}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    now = clock.now()
    seed_demo(listings_count=args.listings, seed=args.seed, progress=seed_progress,
              workers=args.workers)
    return {"start": now - timedelta(days=30)}


def _train():
    from foundation import db
    from vision.counterfeit import services
    from vision.counterfeit.kind import COUNTERFEIT

    state = {"bar": None}

    def train_progress(done: int, total: int, message: str) -> None:
        if done == total or done % max(1, total // 50) == 0:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r{'training: ' + message[:18]:<28} "
                             f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            sys.stderr.flush()
        state["bar"] = done

    with db.unit_of_work() as s:
        trained = COUNTERFEIT.train(s, {}, train_progress)
    sys.stderr.write("\n")
    return trained, services.install_model(trained.artifact)


def _evaluate(scorer, cut, held_out_ids: set[int]) -> dict:
    from foundation import db
    from marketplace_core.listings.models import Listing
    from marketplace_core.seed.models import DemoListingTruth
    from vision.counterfeit import features

    with db.unit_of_work() as s:
        labelled = {label.listing_id for label in features.platform_labels(s)}
        rows = s.execute(select(Listing.id, DemoListingTruth.counterfeit)
                         .join(DemoListingTruth, DemoListingTruth.listing_id == Listing.id)
                         .where(Listing.created_at >= cut).order_by(Listing.id)).all()
        rows = [(i, fake) for i, fake in rows
                if i not in labelled and features.photo_keys(s, i)]
        ours, price, image, seller, truth = [], [], [], [], []
        for listing_id, fake in progress(rows, len(rows), "scoring held-out listings"):
            evidence = features.gather(s, [listing_id])[listing_id]
            ours.append(scorer.score_evidence([evidence])[listing_id].value)
            price.append(-evidence.tabular[1])
            image.append(float(scorer.model.image_logit(evidence.embedding[None])[0]))
            seller.append(evidence.facts["counterfeit_verdicts"] + evidence.facts["strikes"]
                          + evidence.facts["dispute_losses"])
            truth.append(int(fake))
    y = np.array(truth)
    methods = {"ours": ours, "price_only": price, "image_only": image,
               "seller_record_only": seller}
    return {"evaluated_listings": len(y), "evaluated_counterfeits": int(y.sum()),
            "top_k": _top_k(len(y)),
            "top5_share": {name: _top_share(np.array(v), y) for name, v in methods.items()},
            "auc": {name: _auc(np.array(v), y) for name, v in methods.items()}}


def _top_k(n: int) -> int:
    return max(1, math.ceil(n * TOP_SHARE))


def _top_share(scores: np.ndarray, y: np.ndarray) -> float:
    top = np.argsort(-scores, kind="stable")[:_top_k(len(y))]
    return round(float(y[top].mean()), 3)


def _auc(scores: np.ndarray, y: np.ndarray) -> float | None:
    """The chance that a random counterfeit scores above a random authentic item."""
    positives, negatives = scores[y == 1], scores[y == 0]
    if not len(positives) or not len(negatives):
        return None
    above = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return round(float(above + ties / 2), 3)


def _combiner_weights(scorer) -> dict[str, float]:
    """Logit change per standard deviation of each input: what the combination leans on."""
    from vision.counterfeit.model import INPUTS

    return {name: round(float(w), 3) for name, w in zip(INPUTS, scorer.model.weights,
                                                         strict=True)}


def _held_out_summary(trained) -> dict:
    scores, labels = np.array(trained.held_out.scores), np.array(trained.held_out.labels)
    if not len(labels):
        return {"count": 0}
    return {"count": int(len(labels)), "counterfeit": int(labels.sum()),
            "auc": _auc(scores, labels),
            "mean_score": round(float(scores.mean()), 3),
            "observed_rate": round(float(labels.mean()), 3),
            "brier": round(float(((scores - labels) ** 2).mean()), 4)}


def _print_summary(result: dict) -> None:
    print("\nGenerated data (demo seed). Share of counterfeits in the top "
          f"{TOP_SHARE:.0%} ({result['top_k']} of {result['evaluated_listings']} held-out "
          f"listings, {result['evaluated_counterfeits']} counterfeit):")
    for name, share in result["top5_share"].items():
        print(f"  {name:<18} {share:6.1%}   AUC {result['auc'][name]}")
    print(f"  goal (ours) >= {GOAL_TOP5:.0%}")


if __name__ == "__main__":
    main()
