"""Step time and peak memory of gradtx's optimizers, against optax and a roofline.

Every optimizer is built twice, once from each library with the same
hyperparameters (optax's semantics where gradtx's defaults differ). gradtx's
step is ``gradtx.make_step(tx)``; optax's is the same function,
``(params, state, grads) -> (params, state)``, jitted with params and state
donated. A third step, the *roofline*, is a plain jitted XLA kernel with the
same inputs and outputs (same donation, same order) doing the least elementwise
work: ``p + g`` and ``m + g`` for each of the optimizer's state arrays ``m``,
``c + 1`` for each scalar (Adam's count). The *ideal* time is the bytes the
step must move (every input array read once, every output written once) at the
bandwidth measured at start; XLA's cost model gives the bytes each compiled
step does move. All three run in this one process, interleaved in rounds so
that drift in the machine's speed hits them alike. Trees:

  a  one leaf of --size floats
  b  --leaves leaves of mixed shapes (matrices, conv kernels, biases), --size in all
  c  --small-leaves mixed leaves, --small-size in all (dispatch-bound)
  d  --many-leaves leaves of --leaf-size floats (dispatch- and compile-bound)

Then the peak memory (RSS high-water mark) of --memory-steps donated Adam steps
on tree a, each in a fresh subprocess. Prints markdown.

    python benchmarks/optimizers.py                     # ~5.5 min on 2 CPU cores
    python benchmarks/optimizers.py --size 16777216     # the issue's size
    python benchmarks/optimizers.py --trees a,c --cases adam,clip+adamw

Most of the time goes to XLA compiling each optimizer's step once per library
on trees b and d (~4 of the ~5.5 min; see benchmarks/README.md for the latest
tables and what each column means).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np
import optax

import gradtx

Tree = Any
Shape = tuple[int, ...]
Step = Any  # a jitted (params, state, grads) -> (params, state)
LR = 1e-3
FLOAT_BYTES = 4
MIB = 2**20

# name -> (gradtx optimizer, optax optimizer), the same update rule in both.
CASES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "sgd": lambda: (gradtx.sgd(LR), optax.sgd(LR)),
    "momentum": lambda: (
        gradtx.sgd(LR, 0.9, momentum_after_lr=False),
        optax.sgd(LR, 0.9),
    ),
    "nesterov": lambda: (
        gradtx.sgd(LR, 0.9, nesterov=True, momentum_after_lr=False),
        optax.sgd(LR, 0.9, nesterov=True),
    ),
    "adagrad": lambda: (
        gradtx.adagrad(LR, 0.1, 1e-7, eps_in_sqrt=True),
        optax.adagrad(LR),
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
    # gradtx.flatten packs leaves of <= 16k elements into one vector; against
    # the plain optax chain (what a user would otherwise run), and against
    # optax.flatten (which packs every leaf).
    "flatten(clip+adamw)": lambda: (
        gradtx.flatten(gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(LR))),
        optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(LR)),
    ),
    "flatten vs optax.flatten": lambda: (
        gradtx.flatten(gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(LR))),
        optax.flatten(optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(LR))),
    ),
}
TREES = "abcd"


def mixed_leaves(size: int, n: int) -> list[Shape]:
    """``n`` shapes like a network's (matrices, conv kernels, biases), ``size`` in all.

    Half the leaves are vectors holding ~2% of the floats; the rest is split,
    unevenly, among matrices and 3x3 conv kernels. The last vector takes the
    remainder, so the total is exact.
    """
    rng = np.random.default_rng(0)
    n_big = n // 2
    weights = rng.uniform(0.2, 1.8, n_big)
    big = (0.98 * size * weights / weights.sum()).astype(int)
    shapes: list[Shape] = []
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
        raise ValueError(f"{size} floats are too few for {n} leaves")
    return [*shapes, (rest,)]


def tree_shapes(name: str, args: argparse.Namespace) -> tuple[str, list[Shape]]:
    """The label and leaf shapes of tree ``name`` (one of ``TREES``)."""
    if name == "a":
        return f"a: 1 leaf of {args.size:,}", [(args.size,)]
    if name == "b":
        label = f"b: {args.leaves} mixed leaves, {args.size:,} in all"
        return label, mixed_leaves(args.size, args.leaves)
    if name == "c":
        label = f"c: {args.small_leaves} mixed leaves, {args.small_size:,} in all"
        return label, mixed_leaves(args.small_size, args.small_leaves)
    label = f"d: {args.many_leaves:,} leaves of {args.leaf_size}"
    return label, [(args.leaf_size,)] * args.many_leaves


def make_tree(shapes: list[Shape], seed: int, scale: float) -> Tree:
    # numpy, not jax.random: one jax.random call per new shape would compile.
    rng = np.random.default_rng(seed)
    return {
        f"p{i:04d}": jnp.asarray(scale * rng.standard_normal(s, np.float32))
        for i, s in enumerate(shapes)
    }


def optax_step(tx: optax.GradientTransformation) -> Step:
    """optax's counterpart of ``gradtx.make_step(tx)``: same outputs and donation."""

    def step(params: Tree, state: Tree, grads: Tree) -> tuple[Tree, Tree]:
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return jax.jit(step, donate_argnums=(0, 1))


def _roofline(params: Tree, state: Tree, grads: Tree) -> tuple[Tree, Tree]:
    moments, scalars = state
    moments = tuple(jax.tree.map(jnp.add, m, grads) for m in moments)
    scalars = tuple(c + 1 for c in scalars)
    return jax.tree.map(jnp.add, params, grads), (moments, scalars)


# One jit: it compiles once per tree structure and number of state arrays.
roofline_step: Step = jax.jit(_roofline, donate_argnums=(0, 1))


def state_arrays(state: Tree, n_leaves: int) -> tuple[int, int]:
    """(param-sized arrays per leaf, scalars) in an optimizer's state."""
    leaves = jax.tree.leaves(state)
    scalars = sum(1 for x in leaves if jnp.ndim(x) == 0)
    moments, rest = divmod(len(leaves) - scalars, n_leaves)
    if rest:
        raise ValueError(f"state has {len(leaves)} leaves for {n_leaves} params")
    return moments, scalars


@dataclass
class Runner:
    """One jitted step and the (donated) buffers it threads along."""

    step: Step
    params: Tree
    state: Tree
    grads: Tree
    times: list[float] = field(default_factory=list)

    def run(self, n: int) -> None:
        for _ in range(n):
            tic = time.perf_counter()
            self.params, self.state = self.step(self.params, self.state, self.grads)
            jax.block_until_ready((self.params, self.state))
            self.times.append(time.perf_counter() - tic)


@dataclass
class Row:
    """One optimizer on one tree; each triple is gradtx, optax, roofline."""

    times: tuple[float, ...]  # median step, s
    ratios: tuple[float, float]  # gradtx/optax, gradtx/roofline: paired by round
    first_calls: tuple[float, ...]  # trace + compile + one step, s
    xla_passes: tuple[float, ...]  # XLA's "bytes accessed" / (4 bytes x floats)
    passes: int  # arrays an ideal step reads or writes: 3 + 2 x state arrays
    ideal: float  # s to move those at the measured bandwidth
    diff: float  # max |gradtx params - optax params| after the same steps


def xla_bytes(r: Runner) -> float:
    """Bytes XLA's cost model says the compiled step reads and writes."""
    # After the first call this lower + compile is a cache hit.
    cost = r.step.lower(r.params, r.state, r.grads).compile().cost_analysis()
    if isinstance(cost, list):  # older jax: one dict per program
        cost = cost[0]
    return float(cost["bytes accessed"])


def paired_ratio(a: list[float], b: list[float], repeats: int) -> float:
    """Median over rounds of (a's median step / b's median step) in that round.

    The machine's speed drifts (other jobs share the CPUs); a and b ran back
    to back in each round, so their ratio within a round cancels most of it.
    """
    rounds = range(0, len(a), repeats)
    return statistics.median(
        statistics.median(a[i : i + repeats]) / statistics.median(b[i : i + repeats])
        for i in rounds
    )


def time_case(
    name: str, shapes: list[Shape], args: argparse.Namespace, bandwidth: float
) -> Row:
    """Times gradtx, optax and the roofline on one tree, interleaved in rounds.

    gradtx and optax start from the same params and take the same steps with
    the same gradients, so their final params must agree to rounding: a check
    that both are timed on the same update rule.
    """
    gtx, otx = CASES[name]()

    def runner(step: Step, init: Callable[[Tree], Tree]) -> Runner:
        params = make_tree(shapes, seed=0, scale=1.0)
        grads = make_tree(shapes, seed=1, scale=1e-3)
        return Runner(step, params, init(params), grads)

    probe = gtx.init(make_tree(shapes[:1], seed=0, scale=1.0))
    moments, scalars = state_arrays(probe, 1)

    def roofline_init(params: Tree) -> Tree:
        zeros = tuple(jax.tree.map(jnp.zeros_like, params) for _ in range(moments))
        return zeros, tuple(jnp.zeros((), jnp.int32) for _ in range(scalars))

    runners = [
        runner(gradtx.make_step(gtx), gtx.init),
        runner(optax_step(otx), otx.init),
        runner(roofline_step, roofline_init),
    ]
    packed = name.startswith("flatten")  # state on packed vectors, not per leaf
    if not packed and state_arrays(runners[0].state, len(shapes)) != (
        moments,
        scalars,
    ):
        raise AssertionError(f"{name}: unexpected gradtx state layout")
    first_calls = []
    for r in runners:  # compile, then warm caches and allocator
        r.run(1 + args.warmup)
        first_calls.append(r.times[0])
        r.times.clear()
    for _ in range(args.rounds):
        for r in runners:
            r.run(args.repeats)
    diff = max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(
            jax.tree.leaves(runners[0].params),
            jax.tree.leaves(runners[1].params),
            strict=True,
        )
    )
    passes = 3 + 2 * moments  # read g, p, moments; write p, moments
    floats = sum(int(np.prod(s)) for s in shapes)
    return Row(
        times=tuple(statistics.median(r.times) for r in runners),
        ratios=(
            paired_ratio(runners[0].times, runners[1].times, args.repeats),
            paired_ratio(runners[0].times, runners[2].times, args.repeats),
        ),
        first_calls=tuple(first_calls),
        xla_passes=tuple(xla_bytes(r) / (FLOAT_BYTES * floats) for r in runners),
        passes=passes,
        ideal=passes * FLOAT_BYTES * floats / bandwidth,
        diff=diff,
    )


def measure_bandwidth(floats: int, repeats: int) -> float:
    """Bytes per second read + written by a donated, jitted ``x + 1``."""
    add_one = jax.jit(lambda x: x + 1, donate_argnums=0)
    x = jax.block_until_ready(add_one(jnp.zeros(floats, jnp.float32)))
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        x = jax.block_until_ready(add_one(x))
        times.append(time.perf_counter() - tic)
    return 2 * FLOAT_BYTES * floats / statistics.median(times)


def _status_mib(key: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` in MiB; None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """This process's RSS high-water mark, in MiB.

    On Linux, ``VmHWM`` of ``/proc/self/status``, not
    ``getrusage(RUSAGE_SELF).ru_maxrss``: the latter survives ``execve``, so a
    fresh subprocess starts with its parent's high-water mark (here the 256 MiB
    bandwidth buffer) and hides anything below it. ``ru_maxrss`` elsewhere.
    """
    if (hwm := _status_mib("VmHWM")) is not None:
        return hwm
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


def rss_mib() -> float:
    """This process's resident set size now, in MiB (the peak off Linux)."""
    rss = _status_mib("VmRSS")
    return peak_rss_mib() if rss is None else rss


def reset_peak_rss() -> None:
    """Lowers the high-water mark to the current RSS (Linux >= 4.0; else no-op)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


MEMORY_RUNS = {  # --memory-child value -> row label
    "gradtx": "gradtx `make_step(adam)`",
    "optax": "optax, same step",
    "gradtx-no-donation": "gradtx `make_step(adam, donate=False)`",
}


def memory_child(run: str, size: int, steps: int) -> dict[str, float]:
    """RSS of ``steps`` Adam steps on one leaf of ``size`` floats, in MiB.

    Meant to run in a fresh process (``--memory-child``), where nothing but the
    imports came before. The baseline is the RSS after the imports and the
    backend's start; the next point, after compiling the step from shapes
    alone, before any array exists. The peak is the high-water mark over all
    of it; the steps' peak, the one after the compile (whose transient memory
    could otherwise hide the arrays). Arrays are made by ``jnp.full``, without
    host-side temporaries.
    """
    jax.devices()
    reset_peak_rss()
    baseline = rss_mib()
    gtx, otx = CASES["adam"]()
    if run == "optax":
        tx, step = otx, optax_step(otx)
    else:
        tx, step = gtx, gradtx.make_step(gtx, donate=run == "gradtx")
    spec = jax.ShapeDtypeStruct((size,), jnp.float32)
    compiled = step.lower(spec, jax.eval_shape(tx.init, spec), spec).compile()
    compile_peak, after_compile = peak_rss_mib(), rss_mib()
    reset_peak_rss()
    params = jnp.full((size,), 0.5, jnp.float32)
    grads = jnp.full((size,), 1e-3, jnp.float32)
    state = tx.init(params)
    nbytes = sum(x.nbytes for x in jax.tree.leaves((params, grads, state)))
    for _ in range(steps):
        old = params
        params, state = compiled(params, state, grads)
        if old.is_deleted() != (run != "gradtx-no-donation"):
            raise AssertionError(f"{run}: params were not donated as expected")
        del old
    jax.block_until_ready((params, state))
    steps_peak = peak_rss_mib()
    stats = compiled.memory_analysis()
    return {
        "pgs": nbytes / MIB,
        "baseline": baseline,
        "after_compile": after_compile,
        "peak": max(compile_peak, steps_peak),
        "steps_peak": steps_peak,
        "temp": stats.temp_size_in_bytes / MIB if stats else float("nan"),
    }


def memory_table(size: int, steps: int) -> list[str]:
    lines = [
        "| run | params+grads+state MiB | baseline RSS MiB | RSS after compile MiB "
        "| peak RSS MiB | (peak - baseline) / (p+g+s) "
        "| (steps' peak - after compile) / (p+g+s) | XLA temp MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run, label in MEMORY_RUNS.items():
        command = [sys.executable, __file__, "--memory-child", run]
        command += ["--size", str(size), "--memory-steps", str(steps)]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        total = (m["peak"] - m["baseline"]) / m["pgs"]
        steps_only = (m["steps_peak"] - m["after_compile"]) / m["pgs"]
        lines.append(
            f"| {label} | {m['pgs']:.1f} | {m['baseline']:.0f} "
            f"| {m['after_compile']:.0f} | {m['peak']:.0f} | {total:.2f} "
            f"| {steps_only:.2f} | {m['temp']:.1f} |"
        )
    return lines


def header(bandwidth: float | None = None, floats: int = 0) -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    device = jax.devices()[0]
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (
                    ln.split(":", 1)[1].strip()
                    for ln in f
                    if ln.startswith("model name")
                ),
                model,
            )
    except OSError:
        pass
    lines = [
        f"- machine: {model or platform.machine()}, {usable} usable of {cpus} CPUs, "
        f"{platform.platform()}; jax device: {device.platform} ({device.device_kind})",
        f"- python {platform.python_version()}, jax {jax.__version__}, "
        f"jaxlib {jaxlib.__version__}, optax {optax.__version__}, "
        f"gradtx {gradtx.__version__}",
    ]
    if bandwidth is not None:
        lines.append(
            f"- measured bandwidth: {bandwidth / 1e9:.1f} GB/s (donated, jitted "
            f"`x + 1` over {floats:,} float32: bytes read + written / median time)"
        )
    return "\n".join(lines)


class _Formatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows the defaults, and the module docstring as written."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_Formatter)
    add = parser.add_argument
    add("--size", type=int, default=2**22, help="floats in trees a and b")
    add("--leaves", type=int, default=200, help="leaves of tree b")
    add("--small-size", type=int, default=100_000, help="floats in tree c")
    add("--small-leaves", type=int, default=20, help="leaves of tree c")
    add("--many-leaves", type=int, default=1000, help="leaves of tree d")
    add("--leaf-size", type=int, default=64, help="floats per leaf of tree d")
    add("--trees", default=",".join(TREES), help="comma-separated, of a,b,c,d")
    add("--cases", default=",".join(CASES), help="comma-separated optimizers")
    add("--warmup", type=int, default=3, help="untimed steps after the first call")
    add("--repeats", type=int, default=5, help="steps per round")
    add("--rounds", type=int, default=10, help="interleaved rounds")
    add("--bandwidth-floats", type=int, default=2**26, help="floats in the x + 1 test")
    add("--memory-steps", type=int, default=100, help="0 skips the memory table")
    add(
        "--memory-child",
        choices=list(MEMORY_RUNS),
        help="internal: measure one memory run in this process, print JSON",
    )
    args = parser.parse_args(argv)
    args.trees = [t.strip() for t in args.trees.split(",") if t.strip()]
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := sorted(set(args.trees) - set(TREES)):
        parser.error(f"unknown trees {unknown}; choose from {list(TREES)}")
    if unknown := sorted(set(args.cases) - set(CASES)):
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.size, args.memory_steps)))
        return
    start = time.perf_counter()
    bandwidth = measure_bandwidth(args.bandwidth_floats, repeats=20)
    print(header(bandwidth, args.bandwidth_floats))
    print(
        f"- step time: median of {args.rounds}x{args.repeats} steps after "
        f"{args.warmup} warmup, float32, params+state donated; gradtx, optax and "
        f"the roofline interleaved round by round"
    )
    for tree in args.trees:
        label, shapes = tree_shapes(tree, args)
        tic = time.perf_counter()
        print(f"\n### {label}\n")
        print(
            "| case | gradtx ms | optax ms | gradtx/optax | roofline ms "
            "| gradtx/roofline | gradtx/ideal | ideal passes "
            "| XLA passes: gradtx, optax, roofline | max abs Δ |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        first = np.zeros(3)
        for name in args.cases:
            r = time_case(name, shapes, args, bandwidth)
            first += r.first_calls
            g, o, roof = (1e3 * t for t in r.times)
            xla = ", ".join(f"{x:.1f}" for x in r.xla_passes)
            print(
                f"| {name} | {g:.3f} | {o:.3f} | {r.ratios[0]:.2f} | {roof:.3f} "
                f"| {r.ratios[1]:.2f} | {g / (1e3 * r.ideal):.2f} | {r.passes} "
                f"| {xla} | {r.diff:.1e} |",
                flush=True,
            )
        print(
            f"\nfirst calls (trace + compile + one step), all cases: gradtx "
            f"{first[0]:.1f} s, optax {first[1]:.1f} s, roofline {first[2]:.1f} s; "
            f"tree total {time.perf_counter() - tic:.0f} s"
        )
    if args.memory_steps:
        print(
            f"\n### Peak memory: {args.memory_steps} donated Adam steps on 1 leaf "
            f"of {args.size:,}, one fresh process per row\n"
        )
        print("\n".join(memory_table(args.size, args.memory_steps)), flush=True)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
