"""What a duplicate flag's stored evidence means, in words an analyst can check against
the two photos: each signal the engine recorded, with a plain label, what it measures and
its value; the score beside the threshold; and how often a flag at that threshold has
turned out right (vision.calibration).

Signals a flag did not record (flags written by an older engine) are simply left out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vision.calibration import SHIPPED


@dataclass(frozen=True)
class Signal:
    key: str          # the key in the flag's evidence["signals"]
    label: str
    meaning: str
    form: str         # how the value is written: count, share, signed, decimal, bits


SIGNALS = (
    Signal("inliers", "Matching keypoints", "keypoints that agree on one transform", "count"),
    Signal("inlier_share", "Share of keypoints agreeing",
           "of the keypoints compared, the share that agree on that transform", "share"),
    Signal("detail_correlation", "Fine detail correlation",
           "fine detail correlation after alignment (-1 to 1; 1 is the same detail)",
           "signed"),
    Signal("centre_detail_correlation", "Fine detail at the centre",
           "the same, over the middle of the photo, where the item is (-1 to 1)", "signed"),
    Signal("colour_delta_e", "Colour difference",
           "colour difference (deltaE; under 3 is imperceptible)", "decimal"),
    Signal("pdq_distance", "Perceptual hash distance",
           "bits that differ between the PDQ hashes (of 256; lower is closer)", "bits"),
    Signal("embedding_cosine", "Overall look",
           "similarity of the image embeddings (cosine; 1 is identical)", "signed"),
    Signal("correlation", "Aligned thumbnail correlation",
           "correlation of the aligned grey thumbnails (-1 to 1)", "signed"),
)


@dataclass(frozen=True)
class EvidenceLine:
    key: str
    label: str
    meaning: str
    value: float | int
    shown: str

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "meaning": self.meaning,
                "value": self.value, "shown": self.shown}


def evidence_lines(evidence: Mapping[str, Any] | None) -> list[EvidenceLine]:
    """The recorded signals the engine explains, in the order an analyst reads them."""
    signals = (evidence or {}).get("signals") or {}
    lines = []
    for signal in SIGNALS:
        value = signals.get(signal.key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        lines.append(EvidenceLine(signal.key, signal.label, signal.meaning, value,
                                  _shown(value, signal.form)))
    return lines


def _shown(value: float | int, form: str) -> str:
    if form in ("count", "bits"):
        return str(int(round(value)))
    if form == "share":
        return f"{value:.0%}"
    if form == "signed":
        return f"{value:+.3f}"
    return f"{value:.1f}"


def explained(evidence: Mapping[str, Any] | None, score: float) -> dict[str, Any]:
    """The flag's evidence as the console and the staff API show it."""
    evidence = evidence or {}
    return {"score": score, "threshold": SHIPPED.threshold, "precision": SHIPPED.precision,
            "precision_measured_on": SHIPPED.measured_on,
            "alignment": evidence.get("alignment"),
            "engine_version": evidence.get("engine_version"),
            "signals": [line.as_dict() for line in evidence_lines(evidence)]}


def explained_flag(flag: Any) -> dict[str, Any]:
    """`explained` for a flag row, or the evidence already in a flag's JSON
    (vision.duplicates.flag_json), so one template serves both."""
    if isinstance(flag, Mapping):
        return flag.get("evidence") or explained({}, flag["score"])
    return explained(flag.evidence, flag.score)
