"""Step time of every registered optimizer against its optax counterpart.

The cases are not listed here: they are the optimizer registry's entries with
an optax counterpart. gradtx's side is ``entry.fn(lr, **gradtx_kwargs)`` (the
keywords that give optax's form where gradtx follows the paper), optax's side
is the counterpart at its defaults, so both run the same update rule; the
final params of the two are compared as a check. Each is timed as in
``optimizers.py``: gradtx's ``make_step(tx)`` against optax's same jitted
function, params and state donated, the two interleaved round by round, and
the ratio is the median over rounds of the within-round ratio (gradtx and
optax take turns to run first). XLA's cost model gives the bytes each
compiled step reads and writes: equal bytes mean the same memory traffic, so
a ratio away from 1 there is the machine's noise. The roofline
columns use the same ``p + g``, ``m + g`` kernel as ``optimizers.py``, with as
many param-sized state arrays as gradtx's state has.

Updates that need more than the gradients get it alike on both sides:
``polyak_sgd`` a loss value (``value=1.0``), ``noisy_sgd`` the same key, and
``lbfgs`` runs without its line search (which needs the objective).

    python benchmarks/registry.py                       # ~10 min on 2 CPU cores
    python benchmarks/registry.py --trees a --names lion,lamb,muon
"""

from __future__ import annotations

import argparse
import operator
import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optimizers import (
    Runner,
    Tree,
    header,
    make_tree,
    measure_bandwidth,
    optax_step,
    paired_ratio,
    roofline_step,
    tree_shapes,
    xla_bytes,
)

import gradtx
from gradtx import optimizers

LR = 1e-3
# Keyword arguments both sides need beyond the learning rate.
BOTH: dict[str, dict[str, Any]] = {
    "noisy_sgd": {"key": 0},
    "lbfgs": {"linesearch": None},
}
# Keyword arguments of the update beyond (updates, state, params).
UPDATE_EXTRA: dict[str, dict[str, Any]] = {"polyak_sgd": {"value": 1.0}}


def pairs() -> dict[str, tuple[Any, Any]]:
    """name -> (gradtx transformation, optax's), for every registered optimizer
    with an optax counterpart, in the registry's order."""
    out = {}
    for name, entry in optimizers.registry().items():
        if entry.optax is None:
            continue
        theirs_fn = operator.attrgetter(entry.optax.name.removeprefix("optax."))(optax)
        both = BOTH.get(name, {})
        ours = entry.fn(LR, **both, **entry.optax.gradtx_kwargs)
        out[name] = (ours, theirs_fn(LR, **both))
    return out


def with_update_extra(tx: Any, extra: dict[str, Any]) -> Any:
    """``tx`` whose update gets ``extra`` as keyword arguments."""
    if not extra:
        return tx

    def update(updates: Any, state: Any, params: Any = None) -> Any:
        return tx.update(updates, state, params, **extra)

    return optax.GradientTransformation(tx.init, update)


def time_pair(
    name: str, ours: Any, theirs: Any, shapes: list[Any], args: argparse.Namespace
) -> dict[str, float]:
    """gradtx, optax and the roofline on one tree, interleaved in rounds."""
    extra = UPDATE_EXTRA.get(name, {})
    ours, theirs = with_update_extra(ours, extra), with_update_extra(theirs, extra)

    def runner(step: Any, init: Any) -> Runner:
        params = make_tree(shapes, seed=0, scale=1.0)
        grads = make_tree(shapes, seed=1, scale=1e-3)
        # init under jit: optax's eager lbfgs and prodigy states share buffers
        # between fields (or with the params), which XLA will not donate.
        return Runner(step, params, jax.jit(init)(params), grads)

    gradtx_runner = runner(gradtx.make_step(ours), ours.init)
    leaves = jax.tree.leaves(gradtx_runner.state)
    scalars = sum(1 for x in leaves if np.ndim(x) == 0)
    # Param-sized arrays in gradtx's state, counted in floats (factored and
    # layer-wise states hold less than one array per leaf).
    floats = sum(int(np.prod(s)) for s in shapes)
    state_floats = sum(int(np.size(x)) for x in leaves if np.ndim(x) > 0)
    moments = round(state_floats / floats)

    def roofline_init(params: Tree) -> Tree:
        zeros = tuple(jax.tree.map(jnp.zeros_like, params) for _ in range(moments))
        return zeros, tuple(jnp.zeros((), jnp.int32) for _ in range(scalars))

    runners = [
        gradtx_runner,
        runner(optax_step(theirs), theirs.init),
        runner(roofline_step, roofline_init),
    ]
    first = []
    for r in runners:
        r.run(1 + args.warmup)
        first.append(r.times[0])
        r.times.clear()
    for i in range(args.rounds):  # who runs first alternates: no order bias
        for r in runners if i % 2 == 0 else runners[1::-1] + runners[2:]:
            r.run(args.repeats)
    diff = max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(
            jax.tree.leaves(runners[0].params),
            jax.tree.leaves(runners[1].params),
            strict=True,
        )
    )
    return {
        "gradtx_ms": 1e3 * statistics.median(runners[0].times),
        "optax_ms": 1e3 * statistics.median(runners[1].times),
        "ratio": paired_ratio(runners[0].times, runners[1].times, args.repeats),
        "roofline_ratio": paired_ratio(
            runners[0].times, runners[2].times, args.repeats
        ),
        "state_arrays": state_floats / floats,
        "first_gradtx_s": first[0],
        "first_optax_s": first[1],
        "diff": diff,
        # XLA's cost model: bytes the compiled steps read and write.
        "xla_bytes_ratio": xla_bytes(runners[0]) / xla_bytes(runners[1]),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--size", type=int, default=2**22, help="floats in trees a and b")
    add("--leaves", type=int, default=100, help="leaves of tree b")
    add("--trees", default="a,b", help="comma-separated, of a,b")
    add("--names", default="", help="comma-separated optimizers (default: all)")
    add("--warmup", type=int, default=3, help="untimed steps after the first call")
    add("--repeats", type=int, default=5, help="steps per round")
    add("--rounds", type=int, default=8, help="interleaved rounds")
    args = parser.parse_args(argv)
    # tree_shapes reads these for trees c and d, which this script does not run.
    args.small_size, args.small_leaves, args.many_leaves, args.leaf_size = 0, 0, 0, 0
    args.trees = [t for t in args.trees.split(",") if t]
    if unknown := sorted(set(args.trees) - set("ab")):
        parser.error(f"unknown trees {unknown}; choose from ['a', 'b']")
    args.names = [n for n in args.names.split(",") if n]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    all_pairs = pairs()
    names = args.names or list(all_pairs)
    if unknown := sorted(set(names) - set(all_pairs)):
        raise SystemExit(
            f"no optax counterpart registered for {unknown}; "
            f"choose from {sorted(all_pairs)}"
        )
    bandwidth = measure_bandwidth(2**24, repeats=20)
    print(header(bandwidth, 2**24))
    print(
        f"- step time: median of {args.rounds}x{args.repeats} steps after "
        f"{args.warmup} warmup, float32, params+state donated, lr {LR}; gradtx, "
        f"optax and the roofline interleaved round by round"
    )
    for tree in args.trees:
        label, shapes = tree_shapes(tree, args)
        print(f"\n### {label}\n")
        print(
            "| optimizer | gradtx ms | optax ms | gradtx/optax | gradtx/roofline "
            "| XLA bytes gradtx/optax | state floats / params | max abs Δ params |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        ratios = []
        for name in names:
            ours, theirs = all_pairs[name]
            r = time_pair(name, ours, theirs, shapes, args)
            ratios.append(r["ratio"])
            print(
                f"| {name} | {r['gradtx_ms']:.3f} | {r['optax_ms']:.3f} "
                f"| {r['ratio']:.2f} | {r['roofline_ratio']:.2f} "
                f"| {r['xla_bytes_ratio']:.2f} | {r['state_arrays']:.2f} "
                f"| {r['diff']:.1e} |",
                flush=True,
            )
        print(
            f"\ngradtx/optax over {len(ratios)} optimizers: median "
            f"{statistics.median(ratios):.2f}, max {max(ratios):.2f} "
            f"({names[int(np.argmax(ratios))]})"
        )
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
