"""Time a demo seeding run: N listings x K photos, rendered and JPEG-encoded.

    python -m marketplace_core.seed.benchmark --listings 2000 --photos 3 --workers 2

Each worker renders single-threaded (OpenCV's own thread pool off) so that `--workers`
is the number of cores used. Prints wall time, CPU time per photo and the JPEG sizes;
with --out DIR it also writes the JPEGs (as a seeding job would).
"""
from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import cv2

from .catalog import generate_catalog
from .photos import encode_jpeg, listing_angles, render_product


def _render_chunk(args) -> tuple[int, int, float]:
    specs, photos, size, out_dir = args
    cv2.setNumThreads(1)
    started = time.process_time()
    count = total_bytes = 0
    for spec in specs:
        for k, angle in enumerate(listing_angles(spec, photos)):
            data = encode_jpeg(render_product(spec, angle=angle, size=(size, size),
                                              rng_seed=spec.item_seed + k))
            if out_dir:
                with open(os.path.join(out_dir, f"{spec.item_id}-{k}.jpg"), "wb") as fh:
                    fh.write(data)
            count += 1
            total_bytes += len(data)
    return count, total_bytes, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.out:
        os.makedirs(args.out, exist_ok=True)

    started = time.perf_counter()
    specs = generate_catalog(args.listings, seed=args.seed)
    catalog_s = time.perf_counter() - started
    chunks = [specs[i::args.workers * 8] for i in range(args.workers * 8)]
    jobs = [(chunk, args.photos, args.size, args.out) for chunk in chunks]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(_render_chunk, jobs))
    wall = time.perf_counter() - started
    photos = sum(r[0] for r in results)
    cpu = sum(r[2] for r in results)
    print(f"{args.listings} listings, {photos} photos {args.size}x{args.size}, "
          f"{args.workers} workers: wall {wall:.1f} s (catalogue {catalog_s:.2f} s), "
          f"CPU {cpu / photos * 1000:.1f} ms/photo incl. JPEG, "
          f"mean JPEG {sum(r[1] for r in results) / photos / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
