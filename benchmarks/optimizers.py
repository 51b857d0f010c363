"""Step time and compile time of gradtx's optimizers against optax's.

Every optimizer is built twice, once from each library with the same
hyperparameters (optax's semantics where gradtx's defaults differ), and run
through the same step, ``(params, state, grads) -> (params, state)``, jitted
with params and state donated. Both run in this one process, interleaved in
rounds so that drift in the machine's speed hits both alike. Prints markdown.

    python benchmarks/optimizers.py                        # ~2 min on 2 CPU cores
    python benchmarks/optimizers.py --size 1000000 --cases adam,adamw

Most of the time goes to XLA compiling the 100-leaf steps and the 1,000-leaf
compile-time case (see benchmarks/README.md for the latest table).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np
import optax

import gradtx

Tree = Any
Step = Any  # a jitted (params, state, grads) -> (params, state)
LR = 1e-3

# name -> (gradtx optimizer, optax optimizer), the same update rule in both.
CASES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "sgd": lambda: (gradtx.sgd(LR), optax.sgd(LR)),
    "sgd+momentum": lambda: (
        gradtx.sgd(LR, 0.9, momentum_after_lr=False),
        optax.sgd(LR, 0.9),
    ),
    "adagrad": lambda: (
        gradtx.adagrad(LR, 0.1, 1e-7, eps_in_sqrt=True),
        optax.adagrad(LR, 0.1, 1e-7),
    ),
    "rmsprop": lambda: (gradtx.rmsprop(LR), optax.rmsprop(LR)),
    "adam": lambda: (gradtx.adam(LR), optax.adam(LR)),
    "adamw": lambda: (
        gradtx.adamw(LR, weight_decay=1e-4),
        optax.adamw(LR, weight_decay=1e-4),
    ),
    "clip+adamw": lambda: (
        gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(LR)),
        optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(LR)),
    ),
}


def one_leaf(size: int) -> list[tuple[int, ...]]:
    return [(size,)]


def mixed_leaves(size: int, n: int) -> list[tuple[int, ...]]:
    """``n`` shapes like a network's (matrices, conv kernels, biases), ``size`` in all.

    Half the leaves are vectors holding ~2% of the floats; the rest is split,
    unevenly, among matrices and 3x3 conv kernels. The last vector takes the
    remainder, so the total is exact.
    """
    rng = np.random.default_rng(0)
    n_big = n // 2
    weights = rng.uniform(0.2, 1.8, n_big)
    big = (0.98 * size * weights / weights.sum()).astype(int)
    shapes: list[tuple[int, ...]] = []
    for i, s in enumerate(big):
        if i % 4 == 3 and s >= 9 * 4:  # a conv kernel (3, 3, c_in, c_out)
            c_in = 2 ** int(np.log2(np.sqrt(s / 9)))
            shapes.append((3, 3, c_in, max(1, int(s // (9 * c_in)))))
        else:  # a dense matrix
            rows = 2 ** int(np.log2(np.sqrt(max(s, 1))))
            shapes.append((rows, max(1, int(s // rows))))
    n_small = n - n_big
    per_vector = max(1, (size - sum(int(np.prod(s)) for s in shapes)) // n_small)
    shapes += [(per_vector,)] * (n_small - 1)
    rest = size - sum(int(np.prod(s)) for s in shapes)
    if rest < 1:
        raise ValueError(f"--size {size} is too small for {n} leaves")
    return [*shapes, (rest,)]


def make_tree(shapes: list[tuple[int, ...]], seed: int, scale: float) -> Tree:
    # numpy, not jax.random: one jax.random call per new shape would compile.
    rng = np.random.default_rng(seed)
    return {
        f"p{i:04d}": jnp.asarray(scale * rng.standard_normal(s, np.float32))
        for i, s in enumerate(shapes)
    }


def make_step(tx: Any, apply_updates: Callable[[Tree, Tree], Tree]) -> Step:
    def step(params: Tree, state: Tree, grads: Tree) -> tuple[Tree, Tree]:
        updates, state = tx.update(grads, state, params)
        return apply_updates(params, updates), state

    return jax.jit(step, donate_argnums=(0, 1))


class Runner:
    """One library's jitted step and the (donated) buffers it threads along."""

    def __init__(self, tx: Any, apply_updates: Any, shapes: list[Any]) -> None:
        self.step = make_step(tx, apply_updates)
        self.params = make_tree(shapes, seed=0, scale=1.0)
        self.grads = make_tree(shapes, seed=1, scale=1e-3)
        self.state = tx.init(self.params)
        self.times: list[float] = []

    def run(self, n: int) -> None:
        for _ in range(n):
            tic = time.perf_counter()
            self.params, self.state = self.step(self.params, self.state, self.grads)
            jax.block_until_ready((self.params, self.state))
            self.times.append(time.perf_counter() - tic)


def time_case(
    make: Callable[[], tuple[Any, Any]], shapes: Any, args: Any
) -> tuple[float, float, float]:
    """Median step times (ms) of gradtx and optax, and their params' max difference.

    Both start from the same params and take the same steps with the same
    gradients, so their final params must agree to rounding: a check that the
    two are timed on the same update rule.
    """
    gtx, otx = make()
    runners = [
        Runner(gtx, gradtx.apply_updates, shapes),
        Runner(otx, optax.apply_updates, shapes),
    ]
    for r in runners:  # compile, then warm caches and allocator
        r.run(args.warmup)
        r.times.clear()
    for _ in range(args.rounds):
        for r in runners:
            r.run(args.repeats)
    g, o = (1e3 * statistics.median(r.times) for r in runners)
    diffs = jax.tree.map(
        lambda a, b: jnp.max(jnp.abs(a - b)), runners[0].params, runners[1].params
    )
    return g, o, float(max(jax.tree.leaves(diffs)))


def compile_seconds(tx: Any, apply_updates: Any, shapes: list[Any]) -> float:
    """Seconds to trace, lower and compile the step, from a fresh ``jax.jit``."""
    params = make_tree(shapes, seed=0, scale=1.0)
    state = tx.init(params)
    tic = time.perf_counter()
    make_step(tx, apply_updates).lower(params, state, params).compile()
    return time.perf_counter() - tic


def header() -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    device = jax.devices()[0]
    return "\n".join(
        [
            f"- machine: {platform.platform()}, {platform.machine()}, "
            f"{usable} usable of {cpus} CPUs; jax device: {device.platform} "
            f"({device.device_kind})",
            f"- python {platform.python_version()}, jax {jax.__version__}, "
            f"jaxlib {jaxlib.__version__}, optax {optax.__version__}, "
            f"gradtx {gradtx.__version__}",
        ]
    )


class _Formatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows the defaults, and the module docstring as written."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_Formatter)
    parser.add_argument("--size", type=int, default=2**22, help="floats per tree")
    parser.add_argument("--leaves", type=int, default=100, help="leaves, mixed tree")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps")
    parser.add_argument("--repeats", type=int, default=20, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument(
        "--compile-leaves",
        default="100,1000",
        help="leaf counts for the compile-time table ('' to skip)",
    )
    parser.add_argument(
        "--compile-leaf-size", type=int, default=64, help="floats per leaf there"
    )
    parser.add_argument(
        "--compile-repeats", type=int, default=3, help="median of at most"
    )
    parser.add_argument(
        "--compile-budget",
        type=float,
        default=20.0,
        help="seconds per leaf count after which compiles are not repeated",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := sorted(set(cases) - set(CASES)):
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")

    trees = {
        f"1 leaf of {args.size:,}": one_leaf(args.size),
        f"{args.leaves} mixed leaves": mixed_leaves(args.size, args.leaves),
    }
    print(header())
    print(
        f"- step time: median of {args.rounds}x{args.repeats} steps after "
        f"{args.warmup} warmup, float32, params+state donated\n"
    )
    if cases:
        print("| case | tree | gradtx ms | optax ms | gradtx/optax | max abs Δ |")
        print("|---|---|---:|---:|---:|---:|")
    for name in cases:
        for tree, shapes in trees.items():
            g, o, d = time_case(CASES[name], shapes, args)
            row = f"| {name} | {tree} | {g:.3f} | {o:.3f} | {g / o:.2f} | {d:.1e} |"
            print(row, flush=True)

    counts = [int(n) for n in args.compile_leaves.split(",") if n.strip()]
    if not counts:
        return
    print(
        f"\ncompile (trace + lower + compile) of clip+adamw, leaves of "
        f"{args.compile_leaf_size} floats, median of up to {args.compile_repeats}:\n"
    )
    print("| leaves | gradtx s | optax s | gradtx/optax | runs |")
    print("|---:|---:|---:|---:|---:|")
    for n in counts:
        shapes = [(args.compile_leaf_size,)] * n
        gtx, otx = CASES["clip+adamw"]()
        g_times: list[float] = []
        o_times: list[float] = []
        # Alternate, a fresh jit each time; stop repeating once over budget.
        while len(g_times) < args.compile_repeats and (
            not g_times or sum(g_times) + sum(o_times) < args.compile_budget
        ):
            g_times.append(compile_seconds(gtx, gradtx.apply_updates, shapes))
            o_times.append(compile_seconds(otx, optax.apply_updates, shapes))
        g, o = statistics.median(g_times), statistics.median(o_times)
        print(f"| {n} | {g:.2f} | {o:.2f} | {g / o:.2f} | {len(g_times)} |", flush=True)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
