"""How far a duplicate flag can be believed before an analyst has looked at it.

`SHIPPED` is the measurement behind the engine's shipped threshold: of the flags it raised
on real photos, the share that were true copies (its precision, taken at the lower end of
its 95% confidence interval: a sample with no false flag does not show a precision of 1),
and the share of distinct photos it flagged against another. Trust weighs an open flag
by that precision (the expected cost of the flag, not its full cost) and the console shows
it beside the threshold, so there is exactly one place to change when the engine is
measured again.

Which precision applies when analysts have promoted a duplicate model (vision.modelops):
the promoted rule's threshold is chosen on drawn photo pairs, and drawn pairs have been
seen to overstate precision on real photos, so its figure is never taken on trust alone:
an open flag is weighed by the lower of the shipped real-photo precision and the promoted
version's own held-out precision.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from vision.modelops import services
from vision.modelops.models import ThresholdSetting

DUPLICATE_KIND = "duplicate"


@dataclass(frozen=True)
class DuplicateCalibration:
    threshold: float           # the verified score at or above which a match is flagged
    precision: float           # of the flags raised at that threshold, the share that were copies
    false_flag_share: float    # of distinct photos, the share flagged against another photo
    flags_measured: int        # flags the precision rests on
    photos_measured: int       # distinct photos the false-flag share rests on
    measured_on: str           # the photo set
    command: str               # how to measure it again
    measured: date

    def __post_init__(self) -> None:
        if not (0.0 <= self.precision <= 1.0 and 0.0 <= self.false_flag_share <= 1.0):
            raise ValueError("precision and false_flag_share must be within 0..1")


def precision_at_least(copies_flagged: int, distinct_pairs_flagged: int,
                       z: float = 1.96) -> float:
    """The lower end of the Wilson score interval (z = 1.96: 95%) for the share of flags
    that were copies, given how many flags of each kind a measurement raised."""
    flags = copies_flagged + distinct_pairs_flagged
    if copies_flagged < 0 or distinct_pairs_flagged < 0 or flags == 0:
        raise ValueError("a precision needs at least one flag, and no negative count")
    share = copies_flagged / flags
    spread = z * math.sqrt(share * (1 - share) / flags + z * z / (4 * flags * flags))
    return (share + z * z / (2 * flags) - spread) / (1 + z * z / flags)


COPIES_FLAGGED, DISTINCT_PAIRS_FLAGGED = 840, 0

SHIPPED = DuplicateCalibration(
    # Every one of 840 edited copies of 40 real photos flagged (21 edits; the quarter-size
    # copy is under the intake's minimum), and no pair of the 952 distinct photos: the
    # nearest, the same jacket on one hanger photographed twice, scored 0.468.
    threshold=0.65,
    precision=round(precision_at_least(COPIES_FLAGGED, DISTINCT_PAIRS_FLAGGED), 4),
    false_flag_share=0.0, flags_measured=COPIES_FLAGGED + DISTINCT_PAIRS_FLAGGED,
    photos_measured=952,
    measured_on="../shared/real-photos/clothing-dataset-cc0 (952 real CC0 phone photos)",
    command="python -m bench.vision_duplicates --images "
            "../shared/real-photos/clothing-dataset-cc0 --sources 40 --near-misses 20",
    measured=date(2026, 12, 7))


@dataclass(frozen=True)
class PrecisionInForce:
    precision: float
    source: str                # what the figure was measured on


def precision_in_force(s: Session) -> PrecisionInForce:
    """The precision an open flag is weighed by now (see the module's note)."""
    promoted = _promoted_precision(s)
    if promoted is not None and promoted < SHIPPED.precision:
        return PrecisionInForce(promoted, "the promoted duplicate model's held-out pairs")
    return PrecisionInForce(SHIPPED.precision, SHIPPED.measured_on)


def _promoted_precision(s: Session) -> float | None:
    version = services.champion(s, DUPLICATE_KIND)
    if version is None:
        return None
    return s.scalar(select(ThresholdSetting.precision).where(
        ThresholdSetting.version_id == version.id, ThresholdSetting.edit_type.is_(None),
        ThresholdSetting.precision.is_not(None))
        .order_by(ThresholdSetting.id.desc()).limit(1))
