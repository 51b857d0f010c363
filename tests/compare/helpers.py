"""Shared by the command-line tests: fake training and small checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradtx.compare._cli import main
from gradtx.compare._train import Curves

THREE_GROUPS = ["compare", "--task", "wine", "--optimizers", "sgd", "adam",
                "momentum", "--seeds", "2", "--epochs", "2", "--quiet"]  # fmt: skip
FILES = {"compare.png", "results.json", "results.csv"}


class FakeTraining:
    """Stands in for ``train_group``: records each group, optionally runs a
    hook (e.g. a Ctrl-C) during it, and returns curves of the right shape."""

    def __init__(self, hook: Callable[[int], None] | None = None) -> None:
        self.groups: list[str] = []  # each group's optimizer, when it started
        self.finished: list[str] = []
        self.hook = hook

    def __call__(self, task: Any, variant: Any, hp: np.ndarray, seeds: np.ndarray,
                 *, epochs: int, batch_size: int, progress: Any = None,
                 stop: Any = None) -> Curves:  # fmt: skip
        self.groups.append(variant.optimizer)
        runs, steps = len(hp), len(task.x_train) // batch_size
        for e in range(epochs):
            if self.hook is not None:
                self.hook(len(self.groups))
            if e and stop is not None and stop():
                from gradtx.compare._train import Stopped

                raise Stopped
        self.finished.append(variant.optimizer)
        curve = np.linspace(1.0, 0.5, epochs, dtype=np.float32)
        return Curves(
            np.tile(np.linspace(1.0, 0.5, epochs * steps, dtype=np.float32), (runs, 1)),
            np.tile(curve, (runs, 1)),
            np.tile(curve, (runs, 1)),
            np.full((runs, epochs), 0.9, np.float32),
        )


def run_cli(argv: list[str]) -> int:
    """main(argv), failing the test (not the session) on an escaped Ctrl-C."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main()")


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
