"""The cost of BatchNorm's two-pass variance against the one-pass (fast) form.

``gradtx.nn.functional.batch_norm`` in training mode, jitted, with the
two-pass variance (the default) and with ``use_fast_variance=True`` (the
one-pass E[x^2] - E[x]^2, Flax's default), timed forward alone and forward +
backward (the gradient of a weighted sum of the output with respect to the
input, scale and bias), on float32 inputs of each ``--shapes`` (features
last). Both forms are timed in one process, interleaved round by round; the
table shows medians and the median of the per-round ratios. Accuracy: the
relative error of each form's batch variance against float64 NumPy, for
inputs of mean 3,000 and variance 1.

    python benchmarks/batch_norm.py                # ~20 s on 2 CPU cores
    python benchmarks/batch_norm.py --shapes 64x64 --rounds 3 --repeats 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import flax
import jax
import jax.numpy as jnp
import numpy as np

from gradtx.nn import functional

Run = Callable[[jax.Array, jax.Array, jax.Array], object]
FORMS = {"two-pass (default)": False, "one-pass (use_fast_variance=True)": True}


def programs(fast: bool, weights: jax.Array) -> tuple[Run, Run]:
    """Jitted forward and forward + backward of training-mode batch norm."""
    features = weights.shape[-1]
    stats = jnp.zeros(features, jnp.float32), jnp.ones(features, jnp.float32)

    def forward(x: jax.Array, scale: jax.Array, bias: jax.Array) -> jax.Array:
        y, _, _ = functional.batch_norm(
            x, scale, bias, *stats, training=True, use_fast_variance=fast
        )
        return y

    def loss(x: jax.Array, scale: jax.Array, bias: jax.Array) -> jax.Array:
        return jnp.sum(weights * forward(x, scale, bias))

    return jax.jit(forward), jax.jit(jax.grad(loss, argnums=(0, 1, 2)))


def time_interleaved(
    runs: dict[str, Run], args: tuple[jax.Array, ...], rounds: int, repeats: int
) -> dict[str, list[list[float]]]:
    """Seconds per call of each run: ``[round][repeat]``, runs alternating."""
    for run in runs.values():  # compile and warm up
        jax.block_until_ready(run(*args))
    times: dict[str, list[list[float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            this_round = []
            for _ in range(repeats):
                start = time.perf_counter()
                jax.block_until_ready(run(*args))
                this_round.append(time.perf_counter() - start)
            times[name].append(this_round)
    return times


def variance_error(fast: bool) -> float:
    """Largest relative error of the batch variance at mean 3,000, variance 1."""
    x = 3000.0 + np.random.default_rng(1).normal(size=(256, 64))
    x32 = jnp.asarray(x, jnp.float32)
    stats = jnp.zeros(64, jnp.float32), jnp.ones(64, jnp.float32)
    _, _, var = functional.batch_norm(
        x32, None, None, *stats, momentum=0.0, training=True, use_fast_variance=fast
    )
    ref = np.asarray(x32, np.float64).var(axis=0)
    return float(np.max(np.abs(np.asarray(var, np.float64) / ref - 1)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="256x32x32x64,1024x512")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        f"# batch_norm.py: float32, training mode | jax {jax.__version__}, "
        f"flax {flax.__version__} | {jax.devices()[0].device_kind} | "
        f"{platform.processor() or platform.machine()}\n"
    )
    print(
        "| shape | variance | forward (ms) | / two-pass | forward + backward (ms) "
        "| / two-pass |"
    )
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for text in args.shapes.split(","):
        shape = tuple(int(n) for n in text.split("x"))
        x = jnp.asarray(rng.normal(size=shape), jnp.float32)
        weights = jnp.asarray(rng.normal(size=shape), jnp.float32)
        scale = jnp.ones(shape[-1], jnp.float32)
        bias = jnp.zeros(shape[-1], jnp.float32)
        runs: dict[str, Run] = {}
        for name, fast in FORMS.items():
            runs[name + " fwd"], runs[name + " fwd+bwd"] = programs(fast, weights)
        times = time_interleaved(runs, (x, scale, bias), args.rounds, args.repeats)
        base = next(iter(FORMS))
        for name in FORMS:
            cells = []
            for part in ("fwd", "fwd+bwd"):
                mine, ref = times[f"{name} {part}"], times[f"{base} {part}"]
                ratio = statistics.median(
                    statistics.median(a) / statistics.median(b)
                    for a, b in zip(mine, ref, strict=True)
                )
                ms = 1e3 * statistics.median(t for r in mine for t in r)
                cells += [f"{ms:.2f}", f"{ratio:.2f}"]
            print(f"| {text} | {name} | {' | '.join(cells)} |")
    print("\n| variance | relative error at mean 3,000, variance 1 (float32) |")
    print("|---|---|")
    for name, fast in FORMS.items():
        print(f"| {name} | {variance_error(fast):.1e} |")


if __name__ == "__main__":
    main()
