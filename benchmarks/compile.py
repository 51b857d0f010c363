"""Compile time of gradtx's optimizer steps against optax's, by number of leaves.

For ``chain(clip_by_global_norm(1), adamw(1e-3))``, ``adam(1e-3)`` and the
clip+adamw chain inside ``gradtx.flatten`` (against optax's plain chain), builds
the step of each library (``gradtx.make_step(tx)``; optax's counterpart with
the same donation and outputs) on trees of ``--leaves`` leaves of
``--leaf-size`` float32, from a fresh ``jax.jit`` each time, and times
separately the trace + lower (``.lower(...)``, Python and JAX) and the compile
(``.compile()``, XLA). Prints a markdown table of both and of their growth from
``--growth-from`` leaves to the largest count measured.

    python benchmarks/compile.py                  # 10..2,000 leaves, ~5 min
    python benchmarks/compile.py --full           # adds 5,000 leaves, ~25 min
    python benchmarks/compile.py --leaves 100,1000 --cases adam

Counts above --max-leaves are only run with --full: at 5,000 leaves optax's
clip+adamw compile alone takes ~12 minutes here (gradtx's ~2).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import optax

# The script's own folder is on sys.path: share the step and header.
from optimizers import header, optax_step

import gradtx

LR = 1e-3
LIBRARIES = ("gradtx", "optax")
DEFAULT_LEAVES = "10,100,1000,2000"
FULL_LEAVES = 5000

# name -> (gradtx optimizer, optax optimizer), the same update rule in both.
CASES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "clip+adamw": lambda: (
        gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(LR)),
        optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(LR)),
    ),
    "adam": lambda: (gradtx.adam(LR), optax.adam(LR)),
    # gradtx.flatten packs the leaves into one vector: fewer arrays per step,
    # but a distinct slice kernel per leaf for XLA to compile.
    "flatten(clip+adamw)": lambda: (
        gradtx.flatten(gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(LR))),
        optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(LR)),
    ),
}
# Cases whose optax side is another case's: measured once, reused.
SAME_OPTAX = {"flatten(clip+adamw)": "clip+adamw"}


@dataclass
class Times:
    """Seconds of each trace + lower and each compile, one entry per run."""

    lower: list[float] = field(default_factory=list)
    compile: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return statistics.median(self.lower) + statistics.median(self.compile)


def measure(tx: Any, library: str, leaves: int, leaf_size: int) -> tuple[float, float]:
    """Seconds to trace + lower, and to compile, the step from a fresh jit."""
    params = {
        f"p{i:05d}": jax.ShapeDtypeStruct((leaf_size,), jnp.float32)
        for i in range(leaves)
    }
    state = jax.eval_shape(tx.init, params)
    step: Any = gradtx.make_step(tx) if library == "gradtx" else optax_step(tx)
    tic = time.perf_counter()
    lowered = step.lower(params, state, params)
    toc = time.perf_counter()
    lowered.compile()
    return toc - tic, time.perf_counter() - toc


def time_case(
    name: str, leaves: int, args: argparse.Namespace, known: Times | None = None
) -> dict[str, Times | None]:
    """Times both libraries, alternating, a median of up to ``--repeats`` runs.

    Repeats stop once the runs so far took ``--budget`` seconds. A library is
    skipped (None) at counts above ``--max-leaves`` without ``--full``. With
    ``known``, optax's times are those (the same optax step, measured before).
    """
    if leaves > args.max_leaves and not args.full:
        return dict.fromkeys(LIBRARIES)
    txs = dict(zip(LIBRARIES, CASES[name](), strict=True))
    times = {lib: Times() for lib in LIBRARIES}
    libraries = LIBRARIES
    if known is not None:
        times["optax"], libraries = known, ("gradtx",)
    spent = 0.0
    for run in range(args.repeats):
        if run and spent > args.budget:
            break
        for lib in libraries:
            lower, compile_ = measure(txs[lib], lib, leaves, args.leaf_size)
            times[lib].lower.append(lower)
            times[lib].compile.append(compile_)
            spent += lower + compile_
    return dict(times)


def _cell(t: Times | None, phase: str) -> str:
    return "skipped" if t is None else f"{statistics.median(getattr(t, phase)):.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def _phase(t: Times | None, phase: str) -> float | None:
    if t is None:
        return None
    return t.total if phase == "total" else statistics.median(getattr(t, phase))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    class Formatter(
        argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
    ):
        """Shows the defaults, and the module docstring as written."""

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    add = parser.add_argument
    add(
        "--leaves",
        default=DEFAULT_LEAVES,
        help=f"comma-separated leaf counts; --full adds {FULL_LEAVES} to the default",
    )
    add("--leaf-size", type=int, default=64, help="floats per leaf")
    add("--cases", default=",".join(CASES), help="comma-separated optimizers")
    add("--full", action="store_true", help="also run counts above --max-leaves")
    add("--max-leaves", type=int, default=2000, help="largest count without --full")
    add("--repeats", type=int, default=3, help="median of at most this many runs")
    add(
        "--budget",
        type=float,
        default=20.0,
        help="seconds per case and count after which runs are not repeated",
    )
    add("--growth-from", type=int, default=1000, help="count the growth starts at")
    args = parser.parse_args(argv)
    if args.full and args.leaves == DEFAULT_LEAVES:
        args.leaves += f",{FULL_LEAVES}"
    args.leaves = sorted({int(n) for n in args.leaves.split(",") if n.strip()})
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := sorted(set(args.cases) - set(CASES)):
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    print(header())
    print(
        f"- trace + lower (`jax.jit(step).lower`) and compile (`.compile()`) of the "
        f"step from a fresh jit, leaves of {args.leaf_size} float32, median of up "
        f"to {args.repeats} runs (fewer past {args.budget:.0f} s), gradtx and "
        f"optax alternating\n"
    )
    for name in args.cases:  # warm JAX's own caches; untimed
        for lib, tx in zip(LIBRARIES, CASES[name](), strict=True):
            measure(tx, lib, 2, args.leaf_size)
    print(
        "| case | leaves | gradtx lower s | optax lower s | ratio "
        "| gradtx compile s | optax compile s | ratio | gradtx/optax total | runs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    results: dict[tuple[str, int], dict[str, Times | None]] = {}
    for name in args.cases:
        for n in args.leaves:
            same = results.get((SAME_OPTAX.get(name, ""), n), {}).get("optax")
            ts = results[name, n] = time_case(name, n, args, same)
            g, o = ts["gradtx"], ts["optax"]
            cells = [name, f"{n:,}"]
            for phase in ("lower", "compile"):
                cells += [_cell(g, phase), _cell(o, phase)]
                cells.append(_ratio(_phase(g, phase), _phase(o, phase)))
            cells.append(_ratio(_phase(g, "total"), _phase(o, "total")))
            cells.append(str(len(g.lower)) if g else "-")
            print(f"| {' | '.join(cells)} |", flush=True)

    print(
        f"\ngrowth from {args.growth_from:,} leaves to the largest count measured "
        f"(time ratio, and the exponent k of time ~ leaves^k):\n"
    )
    print("| case | library | leaves | lower | compile | total | k (total) |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name in args.cases:
        for lib in LIBRARIES:
            measured = [
                n
                for n in args.leaves
                if n > args.growth_from and results[name, n][lib] is not None
            ]
            base = results.get((name, args.growth_from), {}).get(lib)
            if not measured or base is None:
                continue
            top = measured[-1]
            t = results[name, top][lib]
            assert t is not None
            growth = {
                p: statistics.median(getattr(t, p))
                / statistics.median(getattr(base, p))
                for p in ("lower", "compile")
            }
            total = t.total / base.total
            k = math.log(total) / math.log(top / args.growth_from)
            print(
                f"| {name} | {lib} | {args.growth_from:,} → {top:,} "
                f"| {growth['lower']:.1f}x | {growth['compile']:.1f}x "
                f"| {total:.1f}x | {k:.2f} |"
            )
    skipped = [n for n in args.leaves if n > args.max_leaves and not args.full]
    if skipped:
        print(f"\nskipped without --full: {', '.join(f'{n:,}' for n in skipped)}")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
