"""`flask train-model`: the same training run as the console's, with a progress bar."""
from __future__ import annotations

import json

from foundation import jobs
from tests.builders.model_versions import SMALL
from tests.builders.rows import count
from tests.vision.modelops.support import audit_actions
from vision.modelops.models import ModelVersion, TrainingRun


def test_train_model_trains_here_with_a_progress_bar(app, staff):
    _, email, _ = staff("fraud_analyst")
    result = app.test_cli_runner().invoke(args=[
        "train-model", "duplicate", "--staff", email.upper(), "--params", json.dumps(SMALL)])
    assert result.exit_code == 0, result.output
    assert "verifying pairs" in result.output and "fitting the calibration" in result.output
    assert "succeeded: duplicate v1 is a candidate" in result.output
    assert count(ModelVersion) == 1 and audit_actions() == ["vision.training.start"]
    jobs.run_pending(["vision"])            # the queued job finds the run taken
    assert count(ModelVersion) == 1


def test_train_model_refuses_bad_input_clearly(app, staff):
    _, analyst, _ = staff("fraud_analyst")
    _, agent, _ = staff("support_agent")
    runner = app.test_cli_runner()
    for args, message in [
        (["duplicate", "--staff", analyst, "--params", "{"], "--params is not valid JSON"),
        (["duplicate", "--staff", "nobody@staff.test"], "no staff account"),
        (["duplicate", "--staff", agent], "vision.manage_models"),
        (["duplicate", "--staff", analyst, "--params", '{"photos": 2}'],
         "photos: a whole number from 4 to 64"),
        (["palmistry", "--staff", analyst], "unknown model kind"),
        (["duplicate", "--staff", analyst, "--no-wait", "--promote"], "leave out --no-wait"),
    ]:
        result = runner.invoke(args=["train-model", *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert count(TrainingRun) == 0


def test_train_model_can_promote_what_it_trained(app, staff):
    _, email, _ = staff("fraud_analyst")
    result = app.test_cli_runner().invoke(args=[
        "train-model", "duplicate", "--staff", email, "--params", json.dumps(SMALL),
        "--promote"])
    assert result.exit_code == 0, result.output
    assert "duplicate v1 is now the duplicate champion" in result.output
    assert audit_actions() == ["vision.training.start", "vision.model.promote"]
