"""``gradtx.compare.run``: train variants side by side and collect the results."""

from __future__ import annotations

import numbers
import reprlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import numpy as np

from gradtx._internal import validate
from gradtx.compare import _memory
from gradtx.compare._model import check_network
from gradtx.compare._results import Results
from gradtx.compare._tasks import TASKS, load_task
from gradtx.compare._train import train_group
from gradtx.compare._variants import Variant

__all__ = ["Comparison", "run"]

_MAX_SEED = 2**32 - 1  # seeds are uint32 keys
_SEEDS = "a count >= 1 or a list of seeds (ints in [0, 2**32))"


class _Progress:
    """A one-line progress bar per group on a text stream (stderr)."""

    def __init__(self, stream: TextIO | None, groups: int) -> None:
        self.stream, self.groups = stream, groups
        self.open = False  # a bar is drawn and not yet ended by a newline

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
        self.open = done != total
        if not self.open:
            self.stream.write("\n")
        self.stream.flush()

    def end_line(self) -> None:
        """Ends a bar cut short, so that what follows starts a new line."""
        if self.stream is not None and self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


class Comparison:
    """A checked comparison, trained one group at a time.

    Everything is validated when it is built, before any training: the
    variants, the task, the seeds and budget, whether each variant's network
    can be built, and whether the largest group fits in memory. :func:`run`
    trains every group; the command line trains them one by one so that it can
    stop in between and keep the finished ones (:meth:`results`).

    Attributes:
      variants: the variants, in the order given.
      groups: each group's structure and the indices of its variants; a
        group trains as one vectorized program.
      finished: the indices of the variants trained so far, in order.
    """

    def __init__(
        self,
        variants: Sequence[Variant],
        task: str = "digits",
        *,
        seeds: int | Sequence[int] = 3,
        epochs: int = 10,
        batch_size: int = 64,
        progress: bool | TextIO = False,
    ) -> None:
        self.variants: list[Variant] = validate.sequence(
            "run",
            "variants",
            variants,
            item="gradtx.compare.Variant",
            items="gradtx.compare.Variant objects",
            kind=Variant,
            hint="run takes a list: build one with grid(), or pass [variant] for "
            "one variant.",
            iterable=True,
        )
        self.task = load_task(
            validate.lookup("run", "task", task, {name: name for name in TASKS})
        )
        n_seeds = _count_seeds(seeds)
        validate.integer("run", "epochs", epochs, low=1, meaning="passes over the data")
        validate.integer(
            "run", "batch_size", batch_size, low=1, meaning="examples per step"
        )
        self.epochs, self.batch_size = int(epochs), int(batch_size)
        n_train = len(self.task.x_train)
        if batch_size > n_train:
            raise validate.error(
                ValueError,
                "run",
                f"batch_size {batch_size} is larger than the {n_train} training "
                f"examples of {self.task.name}.",
            )
        if self.task.kind != "image":
            bad = sorted({v.augment for v in self.variants if v.augment != "off"})
            if bad:
                raise validate.error(
                    ValueError,
                    "run",
                    f"augment={bad[0]!r} needs an image task; {self.task.name} is "
                    "tabular. Use --augment off (or the digits task).",
                )
        if not isinstance(progress, bool) and not hasattr(progress, "write"):
            raise validate.error(
                TypeError,
                "run",
                f"progress must be True, False or a text stream, got {progress!r}.",
            )
        members: dict[Variant, list[int]] = {}
        for i, v in enumerate(self.variants):
            members.setdefault(v.structure(), []).append(i)
        self.groups = list(members.items())
        for structure, _ in self.groups:
            check_network(self.task, structure)
        _memory.check(
            self.task,
            [(structure, len(m)) for structure, m in self.groups],
            variants=len(self.variants),
            seeds=n_seeds,
            epochs=self.epochs,
            batch_size=self.batch_size,
        )
        if n_seeds > _MAX_SEED + 1:  # where the memory available is unknown
            raise validate.error(
                ValueError,
                "run",
                f"seeds={n_seeds:,} is more than the 2**32 seeds there are (uint32 "
                "keys); use fewer.",
            )
        self.seeds = _seed_list(seeds, n_seeds)
        self.steps = n_train // batch_size
        if isinstance(progress, bool):
            stream = sys.stderr if progress else None
        else:
            stream = progress
        self.progress = _Progress(stream, len(self.groups))
        shape = (len(self.variants), len(self.seeds), self.epochs)
        self.step_loss = np.zeros((*shape[:2], self.epochs * self.steps), np.float32)
        self.curves = {k: np.zeros(shape, np.float32) for k in ("train", "loss", "acc")}
        self.seconds = np.zeros(len(self.variants))
        self.finished: list[int] = []

    def group_name(self, g: int) -> str:
        """The progress bar's name of group ``g`` (0-based)."""
        structure, members = self.groups[g]
        name = structure.label(["schedule"] if structure.schedule != "constant" else [])
        return name + (f" x{len(members)}" if len(members) > 1 else "")

    def train(self, g: int, stop: Callable[[], bool] | None = None) -> None:
        """Trains group ``g`` (0-based) and stores its curves.

        Raises:
          gradtx.compare._train.Stopped: ``stop`` returned True (checked
            between epochs); the group's variants stay unfinished.
        """
        structure, members = self.groups[g]
        n_s = len(self.seeds)
        runs = [(i, s) for i in members for s in range(n_s)]
        hp = np.array([self.variants[i].numbers() for i, _ in runs])
        seed_arr = np.array([self.seeds[s] for _, s in runs])
        name = self.group_name(g)
        steps, epochs, bar = self.steps, self.epochs, self.progress

        def report(done: int, secs: float) -> None:
            bar.update(g + 1, name, done, epochs, len(runs) * steps / max(secs, 1e-9))

        start = time.perf_counter()
        out = train_group(
            self.task,
            structure,
            hp,
            seed_arr,
            epochs=epochs,
            batch_size=self.batch_size,
            progress=report,
            stop=stop,
        )
        spent = time.perf_counter() - start
        for r, (i, s) in enumerate(runs):
            self.step_loss[i, s] = out.step_loss[r]
            self.curves["train"][i, s] = out.train_loss[r]
            self.curves["loss"][i, s] = out.test_loss[r]
            self.curves["acc"][i, s] = out.test_accuracy[r]
        for i in members:
            self.seconds[i] = spent / len(members)
        self.finished = sorted([*self.finished, *members])

    def results(self) -> Results:
        """The results of the finished variants (all of them after every
        group trained), in the order given."""
        keep = self.finished
        return Results(
            self.task.name,
            [self.variants[i] for i in keep],
            self.seeds,
            self.epochs,
            self.steps,
            self.step_loss[keep],
            self.curves["train"][keep],
            self.curves["loss"][keep],
            self.curves["acc"][keep],
            self.seconds[keep],
        )


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

    Everything is checked before the first group trains, including whether
    the largest group fits in memory (a rough estimate, see the message).

    Args:
      variants: the setups to compare (see :class:`Variant` and :func:`grid`).
      task: ``"digits"`` (a CNN), ``"wine"`` or ``"breast_cancer"`` (MLPs).
      seeds: how many seeds (0, 1, ...) or which ones (ints in [0, 2**32)).
      epochs: passes over the training data, >= 1.
      batch_size: examples per step, >= 1 and at most the training set.
      progress: print a progress bar to stderr (True) or to a given stream.

    Returns:
      :class:`Results`.

    Raises:
      ValueError: no variants, no seeds, a bad budget, an unknown task, a
        combination the task cannot run (augmentation of tabular data, an
        initializer or activation that does not fit the network), or a
        comparison too large for the memory available.
      TypeError: something that is not a list of variants, seeds that are not
        ints, or a progress that is not a stream.

    Example:
      >>> from gradtx import compare
      >>> res = compare.run(compare.grid(optimizer=["sgd", "adam"]), task="wine",
      ...                   seeds=2, epochs=2, batch_size=32)
      >>> res.test_accuracy.shape  # variants, seeds, epochs
      (2, 2, 2)
    """
    comparison = Comparison(
        variants,
        task,
        seeds=seeds,
        epochs=epochs,
        batch_size=batch_size,
        progress=progress,
    )
    for g in range(len(comparison.groups)):
        comparison.train(g)
    return comparison.results()


def _seed_list(seeds: Any, n: int) -> list[int]:
    return (
        list(range(n))
        if isinstance(seeds, numbers.Integral)
        else [int(s) for s in seeds]
    )


def _count_seeds(seeds: Any) -> int:
    """The number of seeds, checked without building a list of a count."""
    if isinstance(seeds, numbers.Integral | np.bool_):  # bools: refused here
        validate.plain_number("run", "seeds", seeds, integer=True, low=1, rule=_SEEDS)
        return int(seeds)
    seeds = validate.sequence("run", "seeds", seeds, item="seed", rule=_SEEDS)
    for s in seeds:
        validate.plain_number(
            "run",
            "seeds",
            s,
            integer=True,
            low=0,
            high=_MAX_SEED,
            rule=_SEEDS,
            shown=f"the seed {reprlib.repr(s)}",
        )
    return len(seeds)
