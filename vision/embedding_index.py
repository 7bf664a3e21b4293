"""`EmbeddingIndex`: the embedding nearest neighbours behind DuplicateIndex.candidates().

    index = EmbeddingIndex(IndexSettings())
    index.add(ids, vectors)            # int64 (n,), float32 (n, 1280) unit-norm rows
    index.remove(ids)
    ids = index.search(vectors, k)     # int64 (len(vectors), k); -1 where fewer were found

Small catalogues are searched exactly: an inner-product flat index (cosine on unit-norm
embeddings), 5 KB a photo. At 1M photos that is 5 GB of memory and a 1M x 1280 scan per
query view, so once the index holds `IndexSettings.approximate_from` photos it trains an
approximate index on the embeddings it holds and moves them all into it:

    PCA to `pca_dims` -> IVF with `lists` inverted lists -> 8-bit scalar quantiser

searched with `nprobe` lists per query. It uses L2 distance, not inner product: for
unit-norm vectors L2 orders neighbours exactly as cosine does, and unlike inner product
it is unchanged by the mean that PCA subtracts. A hashtable direct map keeps removal
cheap (a photo's list and slot are looked up, not searched for). Adds after the switch
go straight into the trained index; it is not retrained as it grows (see
docs/ARCHITECTURE.md for what that costs and when to rebuild).

Training is deterministic: the embeddings are taken in id order, the training sample is
drawn with `seed`, and k-means is seeded with it too.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import faiss
import numpy as np

from foundation.errors import ValidationFailed
from vision import embedding

FLAT = "flat"
APPROXIMATE = "pca_ivf_sq8"


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How the embedding index scales; bench/vision_duplicates.py --index-scale-only
    measures these choices at 1M photos (docs/BENCHMARKS.md).

    - approximate_from: the size at which the exact flat index is replaced by the trained
      approximate one. Below it results, tests and benchmark numbers are exact.
    - pca_dims: dimensions kept by PCA (of the 1280 of EfficientNet-Lite0).
    - lists: inverted lists of the IVF, at most; a small training set gets fewer (at
      least `min_points_per_list` training vectors each), so k-means has data to fit.
    - nprobe: lists searched per query vector.
    - training_sample: most embeddings k-means and PCA are trained on.
    - seed: the training sample and k-means initialisation.
    """
    approximate_from: int = 50_000
    pca_dims: int = 256
    lists: int = 4096
    nprobe: int = 32
    min_points_per_list: int = 10
    training_sample: int = 200_000
    seed: int = 6

    def __post_init__(self):
        positive = ("approximate_from", "pca_dims", "lists", "nprobe", "min_points_per_list",
                    "training_sample")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationFailed(f"{name} must be a positive integer.",
                                       code="invalid_index_settings")
        if self.pca_dims > embedding.EMBEDDING_DIM:
            raise ValidationFailed(f"pca_dims must be at most {embedding.EMBEDDING_DIM}.",
                                   code="invalid_index_settings")
        if self.approximate_from < self.min_points_per_list * 2:
            raise ValidationFailed("approximate_from must leave at least two lists to train.",
                                   code="invalid_index_settings")


DEFAULT_SETTINGS = IndexSettings()


class EmbeddingIndex:
    def __init__(self, settings: IndexSettings = DEFAULT_SETTINGS):
        self.settings = settings
        self._index: faiss.Index = _flat_index()
        self.trained_on = 0          # how many embeddings the approximate index learned from

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        return APPROXIMATE if self.trained_on else FLAT

    @property
    def lists(self) -> int:
        return int(faiss.extract_index_ivf(self._index).nlist) if self.trained_on else 0

    def describe(self) -> dict:
        """What the manifest records, and what load() checks it against."""
        return {"kind": self.kind, "trained_on": self.trained_on, "lists": self.lists,
                "settings": asdict(self.settings)}

    # --- changes --------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Index rows of `vectors` under `ids` (which must not be indexed already)."""
        ids, vectors = _checked_ids(ids), _checked_vectors(vectors)
        if len(ids) != len(vectors):
            raise ValidationFailed(f"{len(ids)} ids for {len(vectors)} embeddings.",
                                   code="invalid_embedding")
        self._index.add_with_ids(vectors, ids)
        if not self.trained_on and len(self) >= self.settings.approximate_from:
            self._switch_to_approximate()

    def remove(self, ids: np.ndarray) -> int:
        return int(self._index.remove_ids(_checked_ids(ids)))

    # --- queries --------------------------------------------------------------------------

    def search(self, vectors: np.ndarray, k: int) -> np.ndarray:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationFailed("k must be at least 1.", code="invalid_k")
        _, ids = self._index.search(_checked_vectors(vectors), k)
        return ids

    def memory_bytes(self) -> int:
        """The index's size serialised: its vectors or codes, ids and trained parameters
        (the direct map's hashtable and allocator slack come on top in memory)."""
        return int(faiss.serialize_index(self._index).nbytes)

    # --- persistence ----------------------------------------------------------------------

    def write(self, path: str) -> None:
        faiss.write_index(self._index, path)

    @classmethod
    def read(cls, path: str, description: dict, settings: IndexSettings) -> EmbeddingIndex:
        """The index written to `path`, as the manifest's `description` says it is;
        searched with `settings` (its nprobe), trained as it was saved."""
        index = cls(settings)
        index._index = faiss.read_index(path)
        index.trained_on = int(description.get("trained_on", 0))
        is_ivf = _is_approximate(index._index)
        if is_ivf != (description.get("kind") == APPROXIMATE) or (is_ivf and not index.trained_on):
            raise ValidationFailed(f"The embedding index in {path} is not the "
                                   f"{description.get('kind')} index its manifest names; "
                                   f"rebuild it.", code="index_corrupt")
        if is_ivf:
            faiss.extract_index_ivf(index._index).nprobe = settings.nprobe
        return index

    # --- the switch -----------------------------------------------------------------------

    def _switch_to_approximate(self) -> None:
        ids, vectors = self._flat_contents()
        self._index = None    # release the flat copy before training allocates more
        self._index = train_approximate(vectors, self.settings)
        self._index.add_with_ids(vectors, ids)
        self.trained_on = len(ids)

    def _flat_contents(self) -> tuple[np.ndarray, np.ndarray]:
        """The flat index's ids and vectors, in id order (so that training depends on
        what is indexed, not on the order it came in)."""
        id_map = faiss.downcast_index(self._index)
        ids = faiss.vector_to_array(id_map.id_map).astype(np.int64)
        flat = faiss.downcast_index(id_map.index)
        vectors = faiss.rev_swig_ptr(flat.get_xb(), len(ids) * flat.d).reshape(len(ids), flat.d)
        order = np.argsort(ids, kind="stable")
        return ids[order], np.ascontiguousarray(vectors[order], dtype=np.float32)


def train_approximate(vectors: np.ndarray, settings: IndexSettings) -> faiss.Index:
    """An empty PCA -> IVF -> SQ8 index trained on (a seeded sample of) `vectors`."""
    rng = np.random.default_rng(settings.seed)
    if len(vectors) > settings.training_sample:
        picks = np.sort(rng.choice(len(vectors), settings.training_sample, replace=False))
        sample = vectors[picks]
    else:
        sample = vectors
    lists = min(settings.lists, len(sample) // settings.min_points_per_list)
    index = faiss.index_factory(embedding.EMBEDDING_DIM,
                                f"PCA{settings.pca_dims},IVF{lists},SQ8", faiss.METRIC_L2)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.seed = settings.seed
    # We chose the lists for the sample: FAISS's own floor of 39 points per list (and
    # its warning) would only repeat that decision.
    ivf.cp.min_points_per_centroid = settings.min_points_per_list
    ivf.cp.max_points_per_centroid = max(256, len(sample) // lists + 1)
    index.train(sample)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.nprobe = settings.nprobe
    return index


def _flat_index() -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(embedding.EMBEDDING_DIM))


def _is_approximate(index: faiss.Index) -> bool:
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return False
    return True


def _checked_ids(ids) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or (ids < 0).any():
        raise ValidationFailed("Photo ids are a 1-d array of non-negative integers.",
                               code="invalid_photo_id")
    return np.ascontiguousarray(ids, dtype=np.int64)


def _checked_vectors(vectors) -> np.ndarray:
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[1] != embedding.EMBEDDING_DIM:
        raise ValidationFailed(f"Embeddings are (n, {embedding.EMBEDDING_DIM}) arrays, not "
                               f"{vectors.shape}.", code="invalid_embedding")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if not np.isfinite(vectors).all():
        raise ValidationFailed("Embeddings must be finite.", code="invalid_embedding")
    return vectors
