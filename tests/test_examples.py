"""The runnable examples in ``examples/`` train end to end."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> ModuleType:
    """Imports ``examples/<name>.py`` by path (``examples`` is not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_digits_learns() -> None:
    metrics = _load("train_digits").main(["--epochs", "5", "--quiet"])
    # Chance is 10%; a few epochs of AdamW on an MLP reach well above 90%.
    assert metrics["test_accuracy"] >= 0.9, metrics
    # The untrained model predicts about uniformly: loss log(10) ≈ 2.30.
    assert metrics["train_loss"] < 0.5 * math.log(10.0), metrics


def test_digits_cnn_with_batch_norm_and_dropout_learns() -> None:
    # Flax NNX CNN (gradtx.nn.BatchNorm, Dropout), nnx.Optimizer(gradtx.adamw).
    metrics = _load("digits_cnn").main(["--epochs", "5", "--quiet"])
    assert metrics["test_accuracy"] >= 0.95, metrics
    # Re-estimated running statistics keep the accuracy within one point.
    assert abs(metrics["test_accuracy_recomputed"] - metrics["test_accuracy"]) <= 0.01


def test_nan_resilient_loop_skips_exactly_the_poisoned_steps() -> None:
    metrics = _load("nan_resilient").main(["--quiet"])
    assert metrics["skipped"] == [10, 11, 50, 120, 121, 122]
    assert metrics["total_notfinite"] == 6
    assert metrics["finite"] and metrics["test_accuracy"] >= 0.9, metrics
