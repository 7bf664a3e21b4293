"""Content and image features for listings nobody has touched yet."""
from __future__ import annotations

import numpy as np

from trust.recommender.catalogue import EMBEDDING_DIM, project_embeddings
from trust.recommender.features import FEATURES, CandidateAttributes, feature_matrix
from trust.recommender.profiles import MemberProfile


def _embedding(seed: int, noise: float = 0.0, base: int = 0) -> bytes:
    rng = np.random.default_rng(base)
    vector = rng.standard_normal(1280).astype(np.float32)
    vector += noise * np.random.default_rng(seed).standard_normal(1280).astype(np.float32)
    return vector.tobytes()


def test_photos_that_look_like_the_members_likes_score_closer():
    taste = project_embeddings([_embedding(1, base=0)])
    assert taste.shape == (EMBEDDING_DIM,) and abs(np.linalg.norm(taste) - 1) < 1e-5
    similar = project_embeddings([_embedding(2, noise=0.3, base=0)])
    different = project_embeddings([_embedding(3, base=99)])
    assert not project_embeddings([]).any()          # no signed photo: no signal
    profile = MemberProfile(brands={"fabindia": 0.6}, categories={"kurtas": 1.0},
                            sizes={"kurtas|M": 1.0}, follows={7}, price_mean=np.log(150000),
                            price_sd=0.3, weight=10.0, taste=taste)
    fresh = CandidateAttributes(
        listing_ids=np.array([1, 2]), sellers=np.array([7, 8]),
        brands=["fabindia", "zara"], categories=["kurtas", "jeans"],
        sizes=["kurtas|M", "jeans|30"], log_prices=np.log(np.array([150000, 900000])),
        published=np.array([1000.0, 1000.0]), popularity=np.zeros(2), als=np.zeros(2),
        embeddings=np.stack([similar, different]))
    x = feature_matrix(profile, fresh, now_ts=1000.0 + 86400)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert x[0, col["taste"]] > 0.9 > abs(x[1, col["taste"]])
    assert (x[0, col["brand"]], x[0, col["category"]], x[0, col["size"]]) == (0.6, 1.0, 1.0)
    assert x[0, col["followed"]] == 1.0 and x[1, col["followed"]] == 0.0
    assert x[0, col["price_fit"]] > 0.99 > 0.1 > x[1, col["price_fit"]]
    assert x[0, col["als"]] == 0.0                    # a fresh listing has no ALS factor
