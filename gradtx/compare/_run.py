"""``gradtx.compare.run``: train variants side by side and collect the results."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from gradtx import _checks
from gradtx.compare._results import Results
from gradtx.compare._tasks import load_task
from gradtx.compare._train import train_group
from gradtx.compare._variants import Variant

__all__ = ["run"]


class _Progress:
    """A one-line progress bar per group on a text stream (stderr)."""

    def __init__(self, stream: TextIO | None, groups: int) -> None:
        self.stream, self.groups = stream, groups

    def update(self, group: int, name: str, done: int, total: int, rate: float) -> None:
        if self.stream is None:
            return
        width = 24
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r[{group}/{self.groups}] {name:<28.28} [{bar}] {done}/{total} epochs "
            f"{rate:9,.0f} steps/s"
        )
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def run(
    variants: Sequence[Variant],
    task: str = "digits",
    *,
    seeds: int | Sequence[int] = 3,
    epochs: int = 10,
    batch_size: int = 64,
    progress: bool | TextIO = False,
) -> Results:
    """Trains every variant with every seed and returns the curves.

    Variants that differ only in learning rate, weight decay, dropout rate or
    clip norm train together with their seeds, as one vectorized program
    (``jit(vmap(...))``); each other structure compiles once. Every variant
    sees the same initial weights and batch order for a given seed.

    Args:
      variants: the setups to compare (see :class:`Variant` and :func:`grid`).
      task: ``"digits"`` (a CNN), ``"wine"`` or ``"breast_cancer"`` (MLPs).
      seeds: how many seeds (0, 1, ...) or which ones.
      epochs: passes over the training data, >= 1.
      batch_size: examples per step, >= 1.
      progress: print a progress bar to stderr (True) or to a given stream.

    Returns:
      :class:`Results`.

    Raises:
      ValueError: no variants, no seeds, a bad budget, an unknown task, or a
        combination the task cannot run (augmentation of tabular data).

    Example:
      >>> from gradtx import compare
      >>> res = compare.run(compare.grid(optimizer=["sgd", "adam"]), task="wine",
      ...                   seeds=2, epochs=2, batch_size=32)
      >>> res.test_accuracy.shape  # variants, seeds, epochs
      (2, 2, 2)
    """
    variants = list(variants)
    if not variants or not all(isinstance(v, Variant) for v in variants):
        raise ValueError("run needs at least one gradtx.compare.Variant (see grid()).")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list or not all(isinstance(s, int) and s >= 0 for s in seed_list):
        raise ValueError(f"seeds must be a count >= 1 or ints >= 0, got {seeds!r}.")
    _checks.check_int("epochs", epochs, low=1, meaning="passes over the data")
    _checks.check_int("batch_size", batch_size, low=1, meaning="examples per step")
    data = load_task(task)
    if data.kind != "image":
        bad = sorted({v.augment for v in variants if v.augment != "off"})
        if bad:
            raise ValueError(
                f"augment={bad[0]!r} needs an image task; {task} is tabular. Use "
                "--augment off (or the digits task)."
            )
    steps = len(data.x_train) // batch_size
    stream = (sys.stderr if progress is True else progress) or None
    groups: dict[Variant, list[int]] = {}
    for i, v in enumerate(variants):
        groups.setdefault(v.structure(), []).append(i)
    bar = _Progress(stream, len(groups))

    n_v, n_s = len(variants), len(seed_list)
    shape = (n_v, n_s, epochs)
    step_loss = np.zeros((n_v, n_s, epochs * max(steps, 1)), np.float32)
    curves = {k: np.zeros(shape, np.float32) for k in ("train", "test_loss", "acc")}
    seconds = np.zeros(n_v)
    for g, (structure, members) in enumerate(groups.items(), start=1):
        runs = [(i, s) for i in members for s in range(n_s)]
        hp = np.array([variants[i].numbers() for i, _ in runs])
        seed_arr = np.array([seed_list[s] for _, s in runs])
        name = structure.label(["schedule"] if structure.schedule != "constant" else [])
        if len(members) > 1:
            name += f" x{len(members)}"

        def report(
            done: int,
            secs: float,
            g: int = g,
            name: str = name,
            n_runs: int = len(runs),
        ) -> None:
            bar.update(g, name, done, epochs, n_runs * steps / max(secs, 1e-9))

        start = time.perf_counter()
        out = train_group(
            data,
            structure,
            hp,
            seed_arr,
            epochs=epochs,
            batch_size=batch_size,
            progress=report,
        )
        spent = time.perf_counter() - start
        for r, (i, s) in enumerate(runs):
            step_loss[i, s] = out.step_loss[r]
            curves["train"][i, s] = out.train_loss[r]
            curves["test_loss"][i, s] = out.test_loss[r]
            curves["acc"][i, s] = out.test_accuracy[r]
        for i in members:
            seconds[i] = spent / len(members)
    return Results(
        task,
        variants,
        seed_list,
        epochs,
        steps,
        step_loss,
        curves["train"],
        curves["test_loss"],
        curves["acc"],
        seconds,
    )
