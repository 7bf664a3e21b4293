"""Counterfeit scoring one listing per call against batches, on a seeded database.

    INSTANCE_PATH=<a seeded demo's instance> python -m bench.counterfeit_batches \
        --listings 128 --batch 32

Scores the first `--listings` watched listings of the instance's database twice with its
champion (or installed) model: one listing per call (what `flask vision score-risk` did,
each listing's photos through the network alone), then `--batch` listings per call (their
photos through the network together, one read of the batch); each pass starts from no
stored score and an empty embedding cache, and rolls back at the end, so the database is
left as it was.  Prints the seconds of each pass and how far their scores differ.
"""
from __future__ import annotations

import argparse
import json
import time

from sqlalchemy import delete, select

from console import create_app
from foundation import db
from foundation.config import Settings
from vision.counterfeit import features, services, watched
from vision.counterfeit.models import CounterfeitScore


def one_pass(listing_ids: list[int], warm_up: int, batch: int
             ) -> tuple[float, dict[int, float]]:
    features.EMBEDDINGS = features.PhotoEmbeddings()  # each pass embeds from nothing
    s = db.session()
    try:
        s.execute(delete(CounterfeitScore).where(CounterfeitScore.listing_id.in_(listing_ids)))
        services.score_listings(s, [warm_up])   # the model loaded, as in a worker
        started = time.perf_counter()
        for start in range(0, len(listing_ids), batch):
            services.score_listings(s, listing_ids[start:start + batch])
        seconds = time.perf_counter() - started
        scores = dict(s.execute(select(CounterfeitScore.listing_id, CounterfeitScore.score)
                                .where(CounterfeitScore.listing_id.in_(listing_ids))).all())
        return seconds, scores
    finally:
        s.rollback()
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    app = create_app(Settings.from_env())
    with app.app_context():
        watched_ids = watched.watched_listing_ids(db.session())
        listing_ids, warm_up = watched_ids[:args.listings], watched_ids[args.listings]
        db.session.remove()
        single, alone = one_pass(listing_ids, warm_up, 1)
        batched, together = one_pass(listing_ids, warm_up, args.batch)
    # A batch reads its listings before acting on any: a risky listing held for review
    # earlier in a one-per-call pass has left the price median of the later ones.
    differences = [abs(alone[i] - together[i]) for i in alone.keys() & together.keys()]
    print(json.dumps({"listings": len(listing_ids), "one_per_call_s": round(single, 1),
                      f"batches_of_{args.batch}_s": round(batched, 1),
                      "scored_both": len(differences),
                      "largest_score_difference": round(max(differences, default=0), 4)}))


if __name__ == "__main__":
    main()
