"""The registry's evaluation maths on inputs small enough to work out by hand."""
from __future__ import annotations

import math

import pytest

from foundation.errors import ValidationFailed
from vision.modelops import evaluation as ev

# Highest first: + + - + - -  (three positives, three negatives)
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
LABELS = [1, 1, 0, 1, 0, 0]


def test_pr_curve_has_one_point_per_distinct_score_highest_first():
    points = [(p["threshold"], round(p["precision"], 4), round(p["recall"], 4))
              for p in ev.pr_curve(SCORES, LABELS)]
    assert points == [(0.9, 1.0, 0.3333), (0.8, 1.0, 0.6667), (0.7, 0.6667, 0.6667),
                      (0.6, 0.75, 1.0), (0.5, 0.6, 1.0), (0.4, 0.5, 1.0)]


def test_roc_curve_and_auc_match_the_count_of_correctly_ordered_pairs():
    roc = ev.roc_curve(SCORES, LABELS)
    assert [(round(p["fpr"], 4), round(p["tpr"], 4)) for p in roc] == [
        (0, 0), (0, 0.3333), (0, 0.6667), (0.3333, 0.6667), (0.3333, 1), (0.6667, 1), (1, 1)]
    # 8 of the 9 (positive, negative) pairs are ordered correctly (0.6 < 0.7 is not).
    assert ev.auc(roc) == pytest.approx(8 / 9)


def test_tied_scores_count_half_in_the_auc_and_are_never_split():
    scores, labels = [0.5, 0.5, 0.2], [1, 0, 0]
    assert [p["threshold"] for p in ev.pr_curve(scores, labels)] == [0.5, 0.2]
    assert ev.auc(ev.roc_curve(scores, labels)) == pytest.approx(0.75)


def test_auc_is_undefined_with_one_class_only():
    assert ev.roc_curve([0.2, 0.9], [0, 0]) == []
    assert ev.auc([]) is None


def test_confusion_at_a_threshold_counts_scores_at_it_as_flagged():
    assert ev.confusion(SCORES, LABELS, 0.7) == {"tp": 2, "fp": 1, "fn": 1, "tn": 2}
    assert ev.confusion(SCORES, LABELS, 0.95) == {"tp": 0, "fp": 0, "fn": 3, "tn": 3}


def test_calibration_bins_and_brier():
    bins = ev.calibration_bins([0.05, 0.15, 0.95, 1.0], [0, 1, 1, 0], n_bins=10)
    assert [(b["count"], b["positive_rate"]) for b in bins if b["count"]] == [
        (1, 0.0), (1, 1.0), (2, 0.5)]
    assert bins[9]["mean_score"] == pytest.approx(0.975)
    assert bins[4] == {"lo": 0.4, "hi": 0.5, "count": 0, "mean_score": None,
                       "positive_rate": None}
    assert ev.brier([1.0, 0.0, 0.5], [1, 0, 1]) == pytest.approx(0.25 / 3)


@pytest.mark.parametrize(("target", "threshold", "recall", "precision"), [
    (0.75, 0.6, 1.0, 0.75),     # 0.6 reaches every positive at exactly the target
    (0.8, 0.8, 2 / 3, 1.0),     # 0.7 drops to 2/3 precision, so the best stops at 0.8
    (1.0, 0.8, 2 / 3, 1.0),     # equal recall at 0.8 and below: the highest threshold
    (0.5, 0.6, 1.0, 0.75),      # full recall from 0.6 down: the fewest flags wins
])
def test_choose_threshold_takes_the_most_recall_at_the_precision(target, threshold, recall,
                                                                 precision):
    choice = ev.choose_threshold(SCORES, LABELS, target)
    assert (choice.threshold, choice.recall, choice.precision) == pytest.approx(
        (threshold, recall, precision))
    assert choice.flags_per_day is None


def test_choose_threshold_counts_the_flags_a_day_on_recent_volume():
    choice = ev.choose_threshold(SCORES, LABELS, 0.75, recent_scores=[0.1, 0.65, 0.9, 0.6],
                                 recent_days=2)
    assert choice.threshold == 0.6 and choice.flags_per_day == 1.5
    assert choice.flagged_held_out == 4


def test_choose_threshold_says_why_when_no_threshold_reaches_the_target():
    choice = ev.choose_threshold([0.5, 0.5, 0.1], [1, 0, 0], 0.9)
    assert choice.threshold is None
    assert "no threshold reaches precision 0.9" in choice.reason and "0.500" in choice.reason


def test_choose_threshold_without_positives_has_no_threshold():
    choice = ev.choose_threshold([0.3, 0.8], [0, 0], 0.9)
    assert choice.threshold is None and "no positives" in choice.reason


@pytest.mark.parametrize(("scores", "labels", "code"), [
    ([], [], "bad_scores"), ([0.1, 0.2], [1], "bad_scores"),
    ([math.nan, 0.2], [1, 0], "bad_scores"), ([0.1, 0.2], [1, 2], "bad_labels"),
])
def test_bad_inputs_are_refused_with_a_code(scores, labels, code):
    with pytest.raises(ValidationFailed) as raised:
        ev.evaluate(scores, labels)
    assert raised.value.code == code


@pytest.mark.parametrize("target", [0, -0.1, 1.01])
def test_a_target_precision_outside_0_1_is_refused(target):
    with pytest.raises(ValidationFailed) as raised:
        ev.choose_threshold(SCORES, LABELS, target)
    assert raised.value.code == "bad_target"


def test_evaluate_is_json_ready_and_thins_long_curves():
    scores = [i / 999 for i in range(1000)]
    labels = [int(i % 3 == 0 or i > 700) for i in range(1000)]
    metrics = ev.evaluate(scores, labels, threshold=0.7)
    assert len(metrics["pr"]) <= ev.MAX_CURVE_POINTS and len(metrics["roc"]) <= 200
    assert metrics["roc"][0]["threshold"] is None and metrics["roc"][-1]["tpr"] == 1.0
    assert metrics["count"] == 1000 and 0.5 < metrics["auc"] <= 1.0
    assert sum(metrics["confusion"].values()) == 1000
