"""The two nearest-neighbour indexes behind DuplicateIndex.candidates(): `PdqIndex` (PDQ
hashes, Hamming distance) and `EmbeddingIndex` (EfficientNet-Lite0 embeddings, cosine).

    index = EmbeddingIndex(IndexSettings())      # or PdqIndex
    index.add(ids, rows)               # int64 (n,); float32 (n, 1280) unit rows | uint8 (n, 32)
    index.remove(ids)
    ids = index.search(rows, k)        # int64 (len(rows), k); -1 where fewer were found

Both are exact (flat) while small. At 1M photos that costs too much: the flat embedding
index is 5 GB and scans 1M x 1280 floats per query view, and the flat PDQ index, although
only 32 MB, scans it once per view: 2.7 ms p50 and 5.1 ms p99 for a view and its mirror on
one core (docs/BENCHMARKS.md). So once an index holds `IndexSettings.approximate_from`
photos it trains an approximate index on what it holds and moves everything into it:

    embeddings: PCA to `pca_dims` -> IVF (`lists`) -> 8-bit scalar quantiser, `nprobe`
    PDQ hashes: binary IVF (`pdq_lists`), `pdq_nprobe`

The embedding index uses L2 distance, not inner product: for unit-norm vectors L2 orders
neighbours exactly as cosine does, and unlike inner product it is unchanged by the mean
that PCA subtracts. Both keep a hashtable direct map, so a removal looks its photo's list
and slot up instead of scanning every list. Adds after the switch go straight into the
trained index; it is not retrained as it grows (docs/ARCHITECTURE.md: what that costs).

Training is deterministic: the rows are taken in id order (not arrival order), the
training sample is drawn with `seed`, and k-means is seeded with it too.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import faiss
import numpy as np

from foundation.errors import ValidationFailed
from vision import embedding, hashing

FLAT = "flat"


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How the global indexes scale; `python -m bench.vision_duplicates --index-scale-only`
    measures these choices at 1M generated photos (docs/BENCHMARKS.md).

    - approximate_from: the size at which both exact indexes are replaced by trained
      approximate ones. Below it, results (tests, the demo, the matching benchmark) are
      exact.
    - pca_dims, lists, nprobe: the embedding index's PCA dimensions, IVF lists (at most:
      a small training set gets fewer, at least `min_points_per_list` vectors each) and
      lists searched per query vector.
    - pdq_lists, pdq_nprobe: the same for the binary IVF of PDQ hashes.
    - training_sample: most rows k-means and PCA are trained on.
    - seed: the training sample and k-means initialisation.
    """
    approximate_from: int = 50_000
    pca_dims: int = 256
    lists: int = 4096
    nprobe: int = 32
    pdq_lists: int = 1024
    pdq_nprobe: int = 64
    min_points_per_list: int = 10
    training_sample: int = 200_000
    seed: int = 6

    def __post_init__(self):
        for name in ("approximate_from", "pca_dims", "lists", "nprobe", "pdq_lists",
                     "pdq_nprobe", "min_points_per_list", "training_sample"):
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


class _SwitchingIndex:
    """Exact until `approximate_from` rows, then trained and approximate (see above)."""
    approximate_kind = ""

    def __init__(self, settings: IndexSettings = DEFAULT_SETTINGS):
        self.settings = settings
        self._index = self._exact()
        self.trained_on = 0          # how many rows the approximate index learned from

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        return self.approximate_kind if self.trained_on else FLAT

    @property
    def lists(self) -> int:
        return int(self._ivf().nlist) if self.trained_on else 0

    def describe(self) -> dict:
        """What the manifest records, and what read() checks the file against."""
        return {"kind": self.kind, "trained_on": self.trained_on, "lists": self.lists,
                "settings": asdict(self.settings)}

    # --- changes --------------------------------------------------------------------------

    def add(self, ids: np.ndarray, rows: np.ndarray) -> None:
        """Index `rows` under `ids` (which must not be indexed already)."""
        ids, rows = _checked_ids(ids), self._checked_rows(rows)
        if len(ids) != len(rows):
            raise ValidationFailed(f"{len(ids)} ids for {len(rows)} rows.",
                                   code=self.invalid_code)
        self._index.add_with_ids(rows, ids)
        if not self.trained_on and len(self) >= self.settings.approximate_from:
            self._switch_to_approximate()

    def remove(self, ids: np.ndarray) -> int:
        ids = _checked_ids(ids)
        if not self.trained_on:
            return int(self._index.remove_ids(ids))
        # The hashtable direct map takes only an array selector (FAISS's wrapper makes a
        # batch selector of a numpy array).
        return int(self._index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))))

    # --- queries --------------------------------------------------------------------------

    def search(self, rows: np.ndarray, k: int) -> np.ndarray:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationFailed("k must be at least 1.", code="invalid_k")
        _, ids = self._index.search(self._checked_rows(rows), k)
        return ids

    def memory_bytes(self) -> int:
        """The index's size serialised: its rows or codes, ids and trained parameters
        (the direct map's hashtable and allocator slack come on top in memory)."""
        return int(self._serialised(self._index).nbytes)

    # --- persistence ----------------------------------------------------------------------

    @classmethod
    def read(cls, path: str, description: dict, settings: IndexSettings):
        """The index written to `path`, which the manifest's `description` says it is;
        trained as it was saved, searched with `settings`' nprobe."""
        index = cls(settings)
        index._index = cls._read_file(path)
        index.trained_on = int(description.get("trained_on", 0))
        approximate = cls._is_approximate(index._index)
        if (approximate != (description.get("kind") == cls.approximate_kind)
                or approximate != bool(index.trained_on)):
            raise ValidationFailed(f"The index in {path} is not the {description.get('kind')} "
                                   f"index its manifest names; rebuild it.",
                                   code="index_corrupt")
        if approximate:
            index._ivf().nprobe = index._nprobe()
        return index

    # --- the switch -----------------------------------------------------------------------

    def _switch_to_approximate(self) -> None:
        ids, rows = self._exact_contents()
        order = np.argsort(ids, kind="stable")
        ids, rows = ids[order], np.ascontiguousarray(rows[order])
        self._index = None    # release the exact copy before training allocates more
        sample = _training_sample(rows, self.settings)
        lists = min(self._max_lists(), len(sample) // self.settings.min_points_per_list)
        self._index = self._trained(sample, lists)
        self._ivf().set_direct_map_type(faiss.DirectMap.Hashtable)
        self._ivf().nprobe = self._nprobe()
        self._index.add_with_ids(rows, ids)
        self.trained_on = len(ids)

    @staticmethod
    def _configure_clustering(ivf, settings: IndexSettings, sample: int, lists: int) -> None:
        ivf.cp.seed = settings.seed
        # The lists were chosen for the sample: FAISS's own floor of 39 points per list
        # (and its warning) would only repeat that decision.
        ivf.cp.min_points_per_centroid = settings.min_points_per_list
        ivf.cp.max_points_per_centroid = max(256, sample // lists + 1)


class EmbeddingIndex(_SwitchingIndex):
    approximate_kind = "pca_ivf_sq8"
    invalid_code = "invalid_embedding"

    @staticmethod
    def _exact():
        return faiss.IndexIDMap2(faiss.IndexFlatIP(embedding.EMBEDDING_DIM))

    def _exact_contents(self) -> tuple[np.ndarray, np.ndarray]:
        id_map = faiss.downcast_index(self._index)
        ids = faiss.vector_to_array(id_map.id_map).astype(np.int64)
        flat = faiss.downcast_index(id_map.index)
        rows = faiss.rev_swig_ptr(flat.get_xb(), len(ids) * flat.d).reshape(len(ids), flat.d)
        return ids, rows

    def _trained(self, sample: np.ndarray, lists: int):
        s = self.settings
        index = faiss.index_factory(embedding.EMBEDDING_DIM,
                                    f"PCA{s.pca_dims},IVF{lists},SQ8", faiss.METRIC_L2)
        self._configure_clustering(faiss.extract_index_ivf(index), s, len(sample), lists)
        index.train(sample)
        return index

    def _ivf(self):
        return faiss.extract_index_ivf(self._index)

    def _max_lists(self) -> int:
        return self.settings.lists

    def _nprobe(self) -> int:
        return self.settings.nprobe

    @staticmethod
    def _is_approximate(index) -> bool:
        return isinstance(faiss.downcast_index(index), faiss.IndexPreTransform)

    @staticmethod
    def _serialised(index) -> np.ndarray:
        return faiss.serialize_index(index)

    def write(self, path: str) -> None:
        faiss.write_index(self._index, path)

    @staticmethod
    def _read_file(path: str):
        return faiss.read_index(path)

    @staticmethod
    def _checked_rows(rows) -> np.ndarray:
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != embedding.EMBEDDING_DIM:
            raise ValidationFailed(f"Embeddings are (n, {embedding.EMBEDDING_DIM}) arrays, "
                                   f"not {rows.shape}.", code="invalid_embedding")
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if not np.isfinite(rows).all():
            raise ValidationFailed("Embeddings must be finite.", code="invalid_embedding")
        return rows


class PdqIndex(_SwitchingIndex):
    approximate_kind = "binary_ivf"
    invalid_code = "invalid_pdq"
    _BYTES = hashing.PDQ_BITS // 8

    @staticmethod
    def _exact():
        return faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(hashing.PDQ_BITS))

    def _exact_contents(self) -> tuple[np.ndarray, np.ndarray]:
        id_map = self._index
        ids = faiss.vector_to_array(id_map.id_map).astype(np.int64)
        flat = faiss.downcast_IndexBinary(id_map.index)
        rows = faiss.vector_to_array(flat.xb).reshape(len(ids), self._BYTES)
        return ids, rows

    def _trained(self, sample: np.ndarray, lists: int):
        index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(hashing.PDQ_BITS), hashing.PDQ_BITS,
                                     lists)
        self._configure_clustering(index, self.settings, len(sample), lists)
        index.train(sample)
        return index

    def _ivf(self):
        return self._index

    def _max_lists(self) -> int:
        return self.settings.pdq_lists

    def _nprobe(self) -> int:
        return self.settings.pdq_nprobe

    @staticmethod
    def _is_approximate(index) -> bool:
        return isinstance(index, faiss.IndexBinaryIVF)

    @staticmethod
    def _serialised(index) -> np.ndarray:
        return faiss.serialize_index_binary(index)

    def write(self, path: str) -> None:
        faiss.write_index_binary(self._index, path)

    @staticmethod
    def _read_file(path: str):
        return faiss.read_index_binary(path)

    @classmethod
    def _checked_rows(cls, rows) -> np.ndarray:
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != cls._BYTES or rows.dtype != np.uint8:
            raise ValidationFailed(f"PDQ hashes are (n, {cls._BYTES}) uint8 arrays, not "
                                   f"{rows.dtype} {rows.shape}.", code="invalid_pdq")
        return np.ascontiguousarray(rows)


def _training_sample(rows: np.ndarray, settings: IndexSettings) -> np.ndarray:
    if len(rows) <= settings.training_sample:
        return rows
    rng = np.random.default_rng(settings.seed)
    return rows[np.sort(rng.choice(len(rows), settings.training_sample, replace=False))]


def _checked_ids(ids) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or (ids < 0).any():
        raise ValidationFailed("Photo ids are a 1-d array of non-negative integers.",
                               code="invalid_photo_id")
    return np.ascontiguousarray(ids, dtype=np.int64)
