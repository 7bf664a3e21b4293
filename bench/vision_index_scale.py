"""The duplicate index's candidate stage at catalogue scale (goal: p99 <= 5 ms at 1M).

    python -m bench.vision_duplicates --index-scale-only --index-size 1000000 \
        --json bench/out/vision-index-scale.json

builds a vision.index.DuplicateIndex of `size` photos, exactly as production grows one
(exact until IndexSettings.approximate_from, then trained and moved into the approximate
embedding index, then added to incrementally), and measures on one core:
  - DuplicateIndex.candidates() latency for a query and its mirror (2 PDQ hashes and 2
    embeddings), and each FAISS search alone;
  - the index's memory (serialised FAISS indexes) and its build and training time;
  - the candidate recall of the approximate embedding search: the share of the exact
    top-k (brute force over every indexed embedding) that it returns, per nprobe;
  - planted near-duplicates: the share whose source comes back as a candidate.

The embeddings and hashes are GENERATED, not computed from photos (EfficientNet-Lite0
signs about 19 photos a second here, so 1M real ones would take 15 hours): unit-norm
1280-d vectors around 20,000 product clusters that share a common direction and a
low-rank spread with a decaying spectrum (as CNN features do): on 5,000 of them,
unrelated pairs had cosines of -0.27 to 0.37 (5th to 95th percentile, median 0.06) and
pairs of one cluster 0.64 to 0.89 (median 0.79). PDQ hashes are random 256-bit strings.
A planted copy is its source's embedding moved to a cosine drawn from 0.70-0.99 with it
(the benchmark's edited copies score 0.66-1.0) and its PDQ hash with 0-31 bits flipped.
Everything is made in chunks from per-chunk seeds and regenerated for the exact pass, so
5 GB of embeddings never sit in memory at once.
"""
from __future__ import annotations

import time
from dataclasses import asdict

import faiss
import numpy as np

from bench.common import percentiles
from vision import embedding, hashing
from vision.global_index import IndexSettings
from vision.index import DuplicateIndex
from vision.matching import DEFAULT_THRESHOLDS, Signature, View

DIM = embedding.EMBEDDING_DIM
CLUSTERS = 20_000
RANK = 128
NPROBES = (8, 16, 32, 64, 128)
PDQ_NPROBES = (16, 32, 64, 128)


class SyntheticCatalogue:
    """Deterministic generated embeddings and PDQ hashes, chunk by chunk."""

    def __init__(self, size: int, chunk: int, seed: int):
        self.size, self.chunk, self.seed = size, chunk, seed
        rng = np.random.default_rng(seed)
        self.spectrum = (np.arange(1, RANK + 1) ** -0.5).astype(np.float32)
        self.basis = _orthonormal_rows(rng, RANK, DIM)
        self.common = np.abs(rng.standard_normal(DIM)).astype(np.float32)
        self.common /= np.linalg.norm(self.common)
        self.centres = self._centres(rng)

    def _centres(self, rng) -> np.ndarray:
        spread = rng.standard_normal((CLUSTERS, RANK)).astype(np.float32) * self.spectrum
        centres = 0.55 * self.common + 0.9 * (spread @ self.basis)
        return centres.astype(np.float32)

    def chunks(self):
        for start in range(0, self.size, self.chunk):
            yield start, *self.chunk_at(start)

    def chunk_at(self, start: int) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings, PDQ hashes) of ids start .. start + chunk."""
        n = min(self.chunk, self.size - start)
        rng = np.random.default_rng([self.seed, start])
        clusters = rng.integers(0, CLUSTERS, n)
        within = rng.standard_normal((n, RANK), dtype=np.float32) * self.spectrum
        vectors = self.centres[clusters] + 0.45 * (within @ self.basis)
        vectors += rng.standard_normal((n, DIM), dtype=np.float32) * np.float32(0.012)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        hashes = rng.integers(0, 256, (n, hashing.PDQ_BITS // 8), dtype=np.uint8)
        return vectors, hashes

    def outsider(self, rng) -> tuple[np.ndarray, np.ndarray]:
        """A photo that is not indexed (the mirror view of a query)."""
        centre = self.centres[rng.integers(0, CLUSTERS)]
        within = rng.standard_normal(RANK, dtype=np.float32) * self.spectrum
        vector = centre + 0.45 * (within @ self.basis)
        return _unit(vector), rng.integers(0, 256, hashing.PDQ_BITS // 8, dtype=np.uint8)


def _orthonormal_rows(rng, rows: int, dim: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((dim, rows)))
    return np.ascontiguousarray(q.T, dtype=np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def planted_copy(source: np.ndarray, cosine: float, rng) -> np.ndarray:
    """A unit vector at exactly `cosine` with `source`, moved in a random direction."""
    direction = rng.standard_normal(DIM).astype(np.float32)
    direction -= (direction @ source) * source
    direction /= np.linalg.norm(direction)
    return _unit(cosine * source + np.sqrt(1 - cosine ** 2) * direction)


def flipped(bits: np.ndarray, count: int, rng) -> np.ndarray:
    unpacked = np.unpackbits(bits)
    unpacked[rng.choice(hashing.PDQ_BITS, count, replace=False)] ^= 1
    return np.packbits(unpacked)


def _query_signature(pdq, vector, mirror_pdq, mirror_vector) -> Signature:
    # candidates() reads only the global signals; the rest of a signature is not needed.
    view = View(pdq=pdq, embedding=vector, local=None, thumb=None)
    mirrored = View(pdq=mirror_pdq, embedding=mirror_vector, local=None, thumb=None)
    return Signature(pdq_quality=100, phash=None, trim=(0, 0, 0, 0), size=(0, 0), view=view,
                     mirrored=mirrored)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def build(catalogue: SyntheticCatalogue, settings: IndexSettings, sources: np.ndarray,
          progress=None) -> tuple[DuplicateIndex, dict, np.ndarray, np.ndarray]:
    """The index of the whole catalogue, build timings, and the sources' embeddings and
    hashes (kept while their chunk passes by)."""
    index = DuplicateIndex(DEFAULT_THRESHOLDS, settings=settings)
    source_vectors = np.zeros((len(sources), DIM), np.float32)
    source_pdq = np.zeros((len(sources), hashing.PDQ_BITS // 8), np.uint8)
    adding, switch_s = 0.0, None
    for start, vectors, hashes in catalogue.chunks():
        ids = np.arange(start, start + len(vectors), dtype=np.int64)
        inside = (sources >= start) & (sources < start + len(vectors))
        source_vectors[inside] = vectors[sources[inside] - start]
        source_pdq[inside] = hashes[sources[inside] - start]
        was_exact = index._embeddings.kind == "flat"
        began = time.perf_counter()
        index._index_globals(ids, hashes, vectors)
        took = time.perf_counter() - began
        adding += took
        if was_exact and index._embeddings.kind != "flat":
            switch_s = took
        if progress:
            progress.update(len(vectors))
    timings = {"build_s": round(adding, 1),
               "switch_s": None if switch_s is None else round(switch_s, 1),
               "what": "build_s: every add into the FAISS indexes (data generation excluded); "
                       "switch_s: the add that crossed approximate_from, with PCA and k-means "
                       "training and the move of the indexed embeddings"}
    return index, timings, source_vectors, source_pdq


def exact_top_k(catalogue: SyntheticCatalogue, queries: np.ndarray, k: int) -> np.ndarray:
    """Brute-force cosine top-k ids over every generated embedding, chunk by chunk."""
    best_scores = np.full((len(queries), k), -np.inf, np.float32)
    best_ids = np.full((len(queries), k), -1, np.int64)
    for start, vectors, _ in catalogue.chunks():
        scores = queries @ vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], 1)
        merged_ids = np.concatenate([best_ids, top + start], 1)
        keep = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, keep, 1)
        best_ids = np.take_along_axis(merged_ids, keep, 1)
    return best_ids


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0]) & set(e)) for f, e in zip(found, exact, strict=True))
    return round(hits / exact.size, 4)


def _found_share(found, sources: np.ndarray) -> float:
    """The share of rows (id arrays, sets or dicts of ids) holding their source."""
    hits = [int(source) in {int(i) for i in row} for row, source in zip(found, sources,
                                                                       strict=True)]
    return round(float(np.mean(hits)), 4)


def index_scale(size: int = 1_000_000, queries: int = 500, seed: int = 6,
                settings: IndexSettings | None = None, show_progress: bool = True) -> dict:
    settings = settings or IndexSettings()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(seed)
    catalogue = SyntheticCatalogue(size, chunk=min(settings.approximate_from, 50_000),
                                   seed=seed)
    sources = np.sort(rng.choice(size, queries, replace=False))
    rss_before = _rss_mb()
    progress = _progress_bar(size, show_progress)
    index, timings, source_vectors, source_pdq = build(catalogue, settings, sources, progress)
    if progress:
        progress.close()
    rss_built = _rss_mb()

    cosines = rng.uniform(0.70, 0.99, queries)
    flips = rng.integers(0, DEFAULT_THRESHOLDS.pdq_distance + 1, queries)
    copies = np.stack([planted_copy(v, c, rng) for v, c in zip(source_vectors, cosines,
                                                               strict=True)])
    copy_pdq = np.stack([flipped(h, f, rng) for h, f in zip(source_pdq, flips, strict=True)])
    mirrors = [catalogue.outsider(rng) for _ in range(queries)]
    signatures = [_query_signature(copy_pdq[i], copies[i], mirrors[i][1], mirrors[i][0])
                  for i in range(queries)]

    k = DEFAULT_THRESHOLDS.candidates_per_signal
    began = time.perf_counter()
    exact = exact_top_k(catalogue, copies, k)
    exact_s = time.perf_counter() - began

    embeddings = index._embeddings
    ivf = faiss.extract_index_ivf(embeddings._index) if embeddings.kind != "flat" else None
    sweep = {}
    for nprobe in (NPROBES if ivf is not None else ()):
        ivf.nprobe = nprobe
        found = embeddings.search(copies, k)
        sweep[str(nprobe)] = {
            "recall_of_exact_top_k": _recall(found, exact),
            "planted_found": _found_share(found, sources),
            "embedding_search_2_vectors_ms": _latency(
                lambda i: embeddings.search(np.stack([copies[i], mirrors[i][0]]), k), queries)}
    if ivf is not None:
        ivf.nprobe = settings.nprobe
    pdq_sweep = _pdq_sweep(index, copy_pdq, mirrors, sources, flips, k, settings)

    candidates = [index.candidates(s) for s in signatures]
    by_signal = {name: _found_share([{p for p, signals in c.items() if name in signals}
                                     for c in candidates], sources)
                 for name in ("pdq", "embedding")}
    planted_any = _found_share(candidates, sources)
    by_band = {}
    for low, high in ((0.70, 0.80), (0.80, 0.90), (0.90, 0.99)):
        rows = (cosines >= low) & (cosines < high)
        by_band[f"{low:.2f}-{high:.2f}"] = {
            "queries": int(rows.sum()),
            "exact": _found_share(exact[rows], sources[rows]),
            "approximate": _found_share(embeddings.search(copies[rows], k), sources[rows])}

    return {
        "generated": True,
        "indexed": len(index),
        "queries": queries,
        "k": k,
        "settings": asdict(settings),
        "embedding_index": embeddings.describe(),
        "candidates_ms": _latency(lambda i: index.candidates(signatures[i]), queries),
        "pdq_search_2_hashes_ms": _latency(
            lambda i: index._pdq.search(np.stack([copy_pdq[i], mirrors[i][1]]), k), queries),
        "embedding_search_2_vectors_ms": _latency(
            lambda i: embeddings.search(np.stack([copies[i], mirrors[i][0]]), k), queries),
        "embedding_recall_of_exact_top_k": _recall(embeddings.search(copies, k), exact),
        "nprobe_sweep": sweep,
        "pdq_index": index._pdq.describe(),
        "pdq_nprobe_sweep": pdq_sweep,
        "planted_found": {"any_signal": planted_any, **by_signal,
                          "embedding_exact": _found_share(exact, sources),
                          "embedding_by_cosine": by_band},
        "memory_mb": {"embedding_index": round(embeddings.memory_bytes() / 2**20, 1),
                      "pdq_index": round(index._pdq.memory_bytes() / 2**20, 1),
                      "process_rss_growth": round(rss_built - rss_before, 1),
                      "what": "FAISS indexes serialised (codes, ids, trained parameters); the "
                              "process RSS growth adds the id set and allocator slack"},
        **timings,
        "exact_pass_s": round(exact_s, 1),
        "cores": 1,
    }


def _pdq_sweep(index: DuplicateIndex, copy_pdq: np.ndarray, mirrors: list, sources, flips,
               k: int, settings: IndexSettings) -> dict:
    """Planted copies whose source the binary IVF returns, per nprobe, by bits flipped (the
    exact flat index returns every one: at <= 31 bits they are far nearer than any random
    hash, about 90 bits away at 1M)."""
    pdq = index._pdq
    if pdq.kind == "flat":
        return {}
    out = {}
    for nprobe in PDQ_NPROBES:
        pdq._index.nprobe = nprobe
        found = pdq.search(copy_pdq, k)
        out[str(nprobe)] = {
            "planted_found": _found_share(found, sources),
            **{f"planted_found_{low}_{high}_bits": _found_share(
                found[(flips >= low) & (flips <= high)], sources[(flips >= low) & (flips <= high)])
               for low, high in ((0, 15), (16, 23), (24, 31))},
            "pdq_search_2_hashes_ms": _latency(
                lambda i: pdq.search(np.stack([copy_pdq[i], mirrors[i][1]]), k), len(sources))}
    pdq._index.nprobe = settings.pdq_nprobe
    return out


def _latency(call, queries: int) -> dict:
    for i in range(min(20, queries)):       # warm caches and code paths
        call(i)
    samples = []
    for i in range(queries):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples)


def _progress_bar(total: int, show: bool):
    if not show:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="photo", desc="indexing generated photos")


def print_summary(result: dict) -> None:
    c = result["candidates_ms"]
    print(f"\ncandidates() at {result['indexed']:,} generated photos, one core: "
          f"p50 {c['p50']} / p95 {c['p95']} / p99 {c['p99']} ms "
          f"(PDQ p99 {result['pdq_search_2_hashes_ms']['p99']}, embedding p99 "
          f"{result['embedding_search_2_vectors_ms']['p99']})")
    print(f"embedding index: {result['embedding_index']['kind']}, "
          f"{result['memory_mb']['embedding_index']} MB; recall of exact top-{result['k']} "
          f"{result['embedding_recall_of_exact_top_k']}; planted copies found "
          f"{result['planted_found']['any_signal']}")
    for nprobe, row in result["nprobe_sweep"].items():
        print(f"  nprobe {nprobe:>4}: recall {row['recall_of_exact_top_k']:.4f}  planted "
              f"{row['planted_found']:.4f}  p99 {row['embedding_search_2_vectors_ms']['p99']} ms")
    for nprobe, row in result["pdq_nprobe_sweep"].items():
        print(f"  PDQ nprobe {nprobe:>4}: planted {row['planted_found']:.4f}  p99 "
              f"{row['pdq_search_2_hashes_ms']['p99']} ms")
