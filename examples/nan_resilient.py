"""A training loop that survives NaN batches: skip the step, log it, go on.

A corrupt batch (a NaN in the data, an overflow in a loss) makes the gradient
non-finite; applied, it turns every weight into NaN and the run is lost.
``gradtx.apply_if_finite`` checks the updates and, when any value is NaN or
infinite, leaves the params and the inner optimizer state untouched and counts
the step instead; after ``max_consecutive_errors`` bad steps in a row it lets
them through (a run that only produces NaNs should fail loudly, not stall).
This script trains an MLP on the digits, poisons some batches on purpose, and
logs each skipped step from the optimizer state.

    python examples/nan_resilient.py
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import gradtx

F32 = jnp.float32


def init(key: jax.Array) -> dict[str, dict[str, jax.Array]]:
    k1, k2 = jax.random.split(key)
    return {
        "hidden": {
            "kernel": jax.random.normal(k1, (64, 64), F32) * math.sqrt(2 / 64),
            "bias": jnp.zeros(64, F32),
        },
        "out": {
            "kernel": jax.random.normal(k2, (64, 10), F32) * math.sqrt(1 / 64),
            "bias": jnp.zeros(10, F32),
        },
    }


def logits(params: Any, x: jax.Array) -> jax.Array:
    h = jax.nn.relu(x @ params["hidden"]["kernel"] + params["hidden"]["bias"][None])
    return h @ params["out"]["kernel"] + params["out"]["bias"][None]


def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
    logp = jax.nn.log_softmax(logits(params, x))
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Trains with poisoned batches; returns the skipped steps and the accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument(
        "--poison", type=int, nargs="*", default=[10, 11, 50, 120, 121, 122]
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(
        (x / 16).astype(np.float32), y.astype(np.int32), test_size=0.2, random_state=0
    )
    tx = gradtx.apply_if_finite(
        gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(3e-3)),
        max_consecutive_errors=5,
    )
    params = init(jax.random.key(0))
    state = tx.init(params)

    @jax.jit
    def step(params: Any, state: Any, x: jax.Array, y: jax.Array) -> tuple[Any, ...]:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = tx.update(grads, state, params)
        return gradtx.apply_updates(params, updates), state, loss

    rng = np.random.default_rng(0)
    poison = set(args.poison)
    skipped = []
    for i in range(args.steps):
        idx = rng.choice(len(x_tr), 64, replace=False)
        xb = x_tr[idx].copy()
        if i in poison:
            xb[0, 0] = np.nan  # one corrupt pixel poisons the whole gradient
        params, state, loss = step(params, state, xb, y_tr[idx])
        if not bool(state.last_finite):
            skipped.append(i)
            if not args.quiet:
                print(
                    f"step {i}: non-finite update skipped (loss {float(loss)}); "
                    f"{int(state.notfinite_count)} in a row, "
                    f"{int(state.total_notfinite)} in all"
                )
    acc = float(jnp.mean(jnp.argmax(logits(params, x_te), -1) == y_te))
    finite = all(bool(jnp.all(jnp.isfinite(p))) for p in jax.tree.leaves(params))
    print(f"skipped steps {skipped}; params finite: {finite}; test accuracy {acc:.4f}")
    return {
        "skipped": skipped,
        "finite": finite,
        "test_accuracy": acc,
        "total_notfinite": int(state.total_notfinite),
    }


if __name__ == "__main__":
    main()
