"""Vectorized seeds against seeds one after another, in the comparison tool.

Trains one variant (Adam, the default network and batch size) on each task
for N seeds two ways in one process: all seeds as one ``jit(vmap(...))``
program (what ``gradtx compare`` does), and each seed alone with the same
compiled one-run program, one after another. Reports the wall time of each
(compile excluded: both programs are compiled and run once first), the
speed-up, and the largest difference between the two sets of curves.

    python benchmarks/compare.py                 # 8 seeds, 3 epochs: ~1 min
    python benchmarks/compare.py --seeds 16 --epochs 5 --tasks digits
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import numpy as np

from gradtx import compare
from gradtx.compare._train import Curves, train_group


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument(
        "--tasks", nargs="+", default=["digits", "breast_cancer", "wine"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(
        f"# compare.py: {args.optimizer}, {args.seeds} seeds x {args.epochs} epochs "
        f"| jax {jax.__version__} | {jax.devices()[0].device_kind}, "
        f"{os.cpu_count()} CPUs ({platform.machine()})\n"
    )
    print(
        "| task | seeds one after another (s) | in one vmap (s) | speed-up | "
        "largest curve difference |"
    )
    print("|---|---|---|---|---|")
    for name in args.tasks:
        seq_s, vec_s, diff = measure(name, args)
        print(
            f"| {name} | {seq_s:.3f} | {vec_s:.3f} | {seq_s / vec_s:.2f} | {diff:.1e} |"
        )
    print(f"\n(medians of {args.repeats} interleaved repeats, compile excluded)")


def measure(name: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """(sequential seconds, vectorized seconds, largest curve difference)."""
    task = compare.load_task(name)
    variant = compare.Variant(optimizer=args.optimizer)
    seeds = np.arange(args.seeds)
    hp = np.tile([variant.numbers()], (args.seeds, 1))

    def together() -> Curves:
        return train_group(task, variant, hp, seeds, epochs=args.epochs, batch_size=64)

    def one_by_one() -> list[Curves]:
        return [
            train_group(
                task,
                variant,
                hp[i : i + 1],
                seeds[i : i + 1],
                epochs=args.epochs,
                batch_size=64,
            )
            for i in range(args.seeds)
        ]

    vec, seq = together(), one_by_one()  # compile both programs
    t_vec, t_seq = [], []
    for _ in range(args.repeats):  # interleaved: the machine's drift cancels
        start = time.perf_counter()
        vec = together()
        t_vec.append(time.perf_counter() - start)
        start = time.perf_counter()
        seq = one_by_one()
        t_seq.append(time.perf_counter() - start)
    diff = max(
        float(np.max(np.abs(getattr(vec, f)[i] - getattr(s, f)[0])))
        for i, s in enumerate(seq)
        for f in vec._fields
    )
    return float(np.median(t_seq)), float(np.median(t_vec)), diff


if __name__ == "__main__":
    main()
