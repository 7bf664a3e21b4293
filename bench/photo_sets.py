"""Studio-style hard negatives for the duplicate benchmark: different items shot alike.

Real phone photos on varied floors and beds are easy to tell apart; a studio catalogue,
where every item of a kind is laid out the same way on the same plain sweep, is not. Two
sets recreate that here, each written as a folder of JPEGs, one subfolder per kind:

- `studio-cutouts`: the real CC0 photos' items cut out of their background (GrabCut from a
  centred rectangle; only clean masks kept: a plausible share of the frame, one main
  component, not running off the rectangle) and pasted at one standard scale and pose
  (centred, long axis aligned, the same fill of the frame) onto one off-white studio
  sweep with a soft shadow.
- `generated-same-pose`: the project's own generator (marketplace_core.seed) drawing
  different products (one per model and colour, each its own physical item: its own
  weave, print placement, stitch holes and lie) of each category from the same camera
  position (one shoot seed per category), each cut out by its true mask and put on the
  same sweep the same way.

Every photo in a set is a distinct item (or a distinct real photo), so any duplicate
reported between two of them is a false flag; edits of them are recall tests.
"""
from __future__ import annotations

# The media package must load before anything imports cv2 (it sets OpenCV's pixel limit).
import marketplace_core.media  # noqa: F401  isort: skip

import hashlib
import multiprocessing
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marketplace_core.media._opencv import cv2
from marketplace_core.seed import generate_catalog
from marketplace_core.seed.photos import render_product_with_mask

DEFAULT_SET_ROOT = "/tmp/dupsets"
DEFAULT_REAL_PHOTOS = str(Path(__file__).resolve().parents[2] / "shared" / "real-photos"
                          / "clothing-dataset-cc0")
SET_NAMES = ("studio-cutouts", "generated-same-pose")
CANVAS = (600, 800)                     # (width, height): a portrait catalogue frame
FILL = 0.8                              # the item's box fills this share of the frame
BACKDROP_BGR = (236, 240, 243)          # off-white, slightly warm
GRABCUT_SIDE = 256                      # GrabCut runs at this long side (cost, not quality)
# Fresh interpreters, not forks: a fork of a process whose OpenCV thread pool already ran
# can hang in the child.
FRESH_PROCESSES = multiprocessing.get_context("spawn")
RECT_MARGIN = 0.06                      # GrabCut's rectangle leaves this share of each side


@dataclass(frozen=True, slots=True)
class MaskCheck:
    ok: bool
    reason: str
    area_share: float


# --- masks --------------------------------------------------------------------------------

def grabcut_mask(image: np.ndarray, iterations: int = 4) -> np.ndarray:
    """The main object's mask (uint8 0/255, the image's size) by GrabCut from a centred
    rectangle, run at GRABCUT_SIDE and scaled back."""
    h, w = image.shape[:2]
    scale = min(1.0, GRABCUT_SIDE / max(h, w))
    small = cv2.resize(image, (round(w * scale), round(h * scale)),
                       interpolation=cv2.INTER_AREA) if scale < 1 else image
    sh, sw = small.shape[:2]
    rect = (round(sw * RECT_MARGIN), round(sh * RECT_MARGIN),
            round(sw * (1 - 2 * RECT_MARGIN)), round(sh * (1 - 2 * RECT_MARGIN)))
    labels = np.zeros((sh, sw), np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(small, labels, rect, background, foreground, iterations,
                cv2.GC_INIT_WITH_RECT)
    mask = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)


def main_component(mask: np.ndarray) -> tuple[np.ndarray, float]:
    """The largest connected component, holes filled, edges smoothed; and the share of the
    mask's area it held (1.0: one piece)."""
    binary = (mask > 127).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < 2:
        return np.zeros_like(mask), 0.0
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = 1 + int(np.argmax(areas))
    share = float(areas.max() / areas.sum())
    piece = (labels == largest).astype(np.uint8) * 255
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(piece)
    cv2.drawContours(filled, contours, -1, 255, -1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    return cv2.morphologyEx(filled, cv2.MORPH_OPEN, kernel), share


def check_mask(mask: np.ndarray, component_share: float) -> MaskCheck:
    """A cut-out worth keeping: 10-75% of the frame, one main piece (90% of the area), and
    not running along the GrabCut rectangle's edge (where the object was cut off)."""
    h, w = mask.shape[:2]
    area = float((mask > 127).mean())
    if not 0.10 <= area <= 0.75:
        return MaskCheck(False, f"area: {area:.2f} of the frame, outside 0.10-0.75", area)
    if component_share < 0.9:
        return MaskCheck(False, f"pieces: the main one is {component_share:.2f} of the mask",
                         area)
    top, left = round(h * RECT_MARGIN) + 2, round(w * RECT_MARGIN) + 2
    ring = np.concatenate([mask[top, left:w - left], mask[h - top, left:w - left],
                           mask[top:h - top, left], mask[top:h - top, w - left]])
    touching = float((ring > 127).mean())
    if touching > 0.25:
        return MaskCheck(False, f"edge: {touching:.2f} of the rectangle's edge is object",
                         area)
    return MaskCheck(True, "ok", area)


# --- the studio shot ----------------------------------------------------------------------

def studio_backdrop(width: int, height: int) -> np.ndarray:
    """An off-white sweep: a little darker at the top, where the paper curves away from
    the light, and a slight vignette."""
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(-1.0, 1.0, width)[None, :]
    yy = np.linspace(-1.0, 1.0, height)[:, None]
    light = (0.94 + 0.06 * np.sqrt(y)) * (1.0 - 0.05 * (x ** 2 + yy ** 2))
    return np.clip(np.array(BACKDROP_BGR)[None, None, :] * light[..., None], 0, 255)


def upright_angle(mask: np.ndarray) -> float:
    """Degrees to rotate by so that the mask's principal axis is vertical or horizontal,
    whichever is nearer (at most 45): items are aligned, never turned on their side."""
    ys, xs = np.nonzero(mask > 127)
    coords = np.stack([xs - xs.mean(), ys - ys.mean()])
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(coords))
    vx, vy = eigenvectors[:, int(np.argmax(eigenvalues))]
    angle = float(np.degrees(np.arctan2(vy, vx)))        # the long axis against +x
    return (angle + 45.0) % 90.0 - 45.0


def studio_shot(image: np.ndarray, mask: np.ndarray, size: tuple[int, int] = CANVAS
                ) -> np.ndarray:
    """The masked item aligned, scaled so its box fills FILL of the frame, centred on the
    studio backdrop with a soft shadow below it."""
    width, height = size
    h, w = mask.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), upright_angle(mask), 1.0)
    # Rotate into a canvas big enough for any angle, then crop to the item's box.
    side = int(np.ceil(np.hypot(h, w)))
    rotation[:, 2] += ((side - w) / 2, (side - h) / 2)
    item = cv2.warpAffine(image, rotation, (side, side), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, rotation, (side, side), flags=cv2.INTER_LINEAR)
    x, y, bw, bh = cv2.boundingRect((alpha > 127).astype(np.uint8))
    item, alpha = item[y:y + bh, x:x + bw], alpha[y:y + bh, x:x + bw]
    scale = min(FILL * width / bw, FILL * height / bh)
    nw, nh = max(1, round(bw * scale)), max(1, round(bh * scale))
    item = cv2.resize(item, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1
                      else cv2.INTER_CUBIC)
    alpha = cv2.resize(alpha, (nw, nh), interpolation=cv2.INTER_LINEAR)
    left, top = (width - nw) // 2, (height - nh) // 2
    placed = np.zeros((height, width), np.float32)
    placed[top:top + nh, left:left + nw] = alpha / 255.0
    placed = cv2.GaussianBlur(placed, (0, 0), 1.0)       # a feathered edge, as a cutout has
    canvas_item = np.zeros((height, width, 3), np.float32)
    canvas_item[top:top + nh, left:left + nw] = item
    shadow = cv2.GaussianBlur(np.roll(placed, round(0.02 * height), axis=0), (0, 0),
                              0.02 * height)
    backdrop = studio_backdrop(width, height) * (1.0 - 0.3 * shadow[..., None])
    out = backdrop * (1.0 - placed[..., None]) + canvas_item * placed[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise ValueError(f"could not encode {path}")
    path.write_bytes(buffer.tobytes())


# --- studio-cutouts -----------------------------------------------------------------------

def cutout(path: str) -> tuple[np.ndarray | None, MaskCheck]:
    """The studio shot of a real photo's item, or None with the reason its mask failed."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        return None, MaskCheck(False, "decode: not a decodable image", 0.0)
    mask, share = main_component(grabcut_mask(image))
    check = check_mask(mask, share)
    if not check.ok:
        return None, check
    return studio_shot(image, mask), check


def _cutout_task(task: tuple[str, str]) -> tuple[str, str]:
    cv2.setNumThreads(1)
    source, target = task
    shot, check = cutout(source)
    if shot is None:
        return source, check.reason
    _save(Path(target), shot)
    return source, "ok"


def make_studio_cutouts(directory: str, real_photos: str, limit: int | None,
                        workers: int) -> dict:
    root = Path(real_photos)
    sources = sorted(p for p in root.rglob("*.jpg"))
    if not sources:
        raise SystemExit(f"no photos under {real_photos} (the real CC0 set)")
    if limit:
        sources = sources[:: max(1, len(sources) // limit)][:limit]
    tasks = [(str(p), str(Path(directory, p.parent.name, p.name))) for p in sources]
    with ProcessPoolExecutor(max_workers=workers, mp_context=FRESH_PROCESSES) as pool:
        outcomes = list(pool.map(_cutout_task, tasks, chunksize=4))
    refused = defaultdict(int)
    for _, reason in outcomes:
        if reason != "ok":
            refused[reason.split(":")[0]] += 1
    kept = sum(1 for _, reason in outcomes if reason == "ok")
    return {"set": "studio-cutouts", "directory": directory, "from": len(tasks),
            "kept": kept, "masks_refused": dict(refused)}


# --- generated-same-pose ------------------------------------------------------------------

def _render_task(task: tuple) -> tuple[str, str]:
    cv2.setNumThreads(1)
    spec, shoot_seed, target = task
    image, mask = render_product_with_mask(spec, angle="front", size=(768, 768),
                                           rng_seed=shoot_seed)
    shot = studio_shot(image, mask)
    _save(Path(target), shot)
    return target, hashlib.sha256(shot.tobytes()).hexdigest()


def make_generated_same_pose(directory: str, count: int, workers: int, seed: int) -> dict:
    """`count` different generated products, front view, every one of a category shot
    from that category's one camera position and put on the same sweep. One item per
    model and colour, each drawn as its own physical item (marketplace_core.seed.photos);
    a render identical to one kept, pixel for pixel, would be one photo twice and is
    dropped (the generator draws none)."""
    specs, products = [], set()
    for spec in generate_catalog(count * 8, seed=seed):
        if not spec.counterfeit and (spec.model, spec.colour) not in products:
            products.add((spec.model, spec.colour))
            specs.append(spec)
    specs = specs[:count]
    shoot_of = {}
    tasks = []
    for spec in specs:
        shoot = shoot_of.setdefault(spec.category, seed * 1000 + len(shoot_of))
        tasks.append((spec, shoot, str(Path(directory, spec.category, f"{spec.item_id}.jpg"))))
    with ProcessPoolExecutor(max_workers=workers, mp_context=FRESH_PROCESSES) as pool:
        written = list(pool.map(_render_task, tasks, chunksize=4))
    per_kind, kept, dropped = defaultdict(int), set(), 0
    for spec, (target, digest) in zip(specs, written, strict=True):
        if digest in kept:
            Path(target).unlink()
            dropped += 1
            continue
        kept.add(digest)
        per_kind[spec.category] += 1
    return {"set": "generated-same-pose", "directory": directory,
            "kept": sum(per_kind.values()), "dropped_as_identical": dropped,
            "per_category": dict(per_kind)}


def make_set(name: str, directory: str, *, real_photos: str = DEFAULT_REAL_PHOTOS,
             size: int | None = None, workers: int = 1, seed: int = 6) -> dict:
    """Write set `name` into `directory` and say what was kept."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    if name == "studio-cutouts":
        summary = make_studio_cutouts(directory, real_photos, size or 400, workers)
    elif name == "generated-same-pose":
        summary = make_generated_same_pose(directory, size or 150, workers, seed)
    else:
        raise ValueError(f"unknown set {name!r}; use one of {', '.join(SET_NAMES)}")
    print(f"wrote {summary['kept']} photos of set {name} to {directory}: {summary}")
    return summary
