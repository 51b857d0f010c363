"""Resumes a training run from a gradtx checkpoint, in a process of its own.

``tests/checkpoint/test_checkpoint.py`` trains 50 steps, saves, and runs this
script in a fresh Python process to restore and train 50 steps more; the final
params must equal those of 100 steps trained straight, bit for bit::

    python tests/scripts/checkpoint_resume.py CHECKPOINT OUT STEPS [--x64]

restores ``(params, state)`` from ``CHECKPOINT``, trains ``STEPS`` steps and
writes the final params to the ``.npz`` file ``OUT``, keyed by leaf path.

The model, data and optimizer are built here, and the test imports them, so
both halves of the run share one definition. Importing this module only
defines functions (pytest imports it to collect doctests): all work happens
under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import gradtx
from gradtx import checkpoint

Batch = tuple[jax.Array, jax.Array]


def setup() -> tuple[gradtx.GradientTransformation, dict[str, Any], Batch]:
    """A small MLP, fixed data, and clip + AdamW with a scheduled learning rate.

    The schedule and Adam's bias correction read the step counters, and the
    learning rate is an injected hyperparameter, so a resume that lost or
    reset any of them would diverge.
    """
    rng = np.random.default_rng(0)

    def normal(*shape: int, scale: float = 1.0) -> jax.Array:
        return jnp.asarray(scale * rng.normal(size=shape), jnp.float32)

    params = {
        "Dense_0": {"kernel": normal(4, 16, scale=0.5), "bias": normal(16, scale=0.1)},
        "Dense_1": {"kernel": normal(16, 1, scale=0.25), "bias": normal(1, scale=0.1)},
    }
    x = normal(32, 4)
    y = jnp.sin(x[:, :1]) + x[:, 1:2] * x[:, 2:3]
    adamw = gradtx.inject_hyperparams(gradtx.adamw)(
        learning_rate=gradtx.warmup_cosine_decay_schedule(0.0, 1e-2, 10, 100),
        weight_decay=1e-4,
    )
    tx = gradtx.chain(gradtx.clip_by_global_norm(1.0), adamw)
    return tx, params, (x, y)


def loss_fn(params: dict[str, Any], x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error of a tanh MLP."""
    # Biases broadcast explicitly: the tests make implicit rank promotion raise.
    h = jnp.tanh(x @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"][None])
    pred = h @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"][None]
    return jnp.mean((pred - y) ** 2)


def train(step: Any, params: Any, state: Any, batch: Batch, n: int) -> tuple[Any, Any]:
    """Runs ``n`` steps of ``step = gradtx.make_step(tx, loss_fn)``."""
    for _ in range(n):
        params, state, _ = step(params, state, *batch)
    return params, state


def flat(tree: Any) -> dict[str, np.ndarray]:
    """The leaves of ``tree`` as NumPy arrays, keyed by their path."""
    return {
        jax.tree_util.keystr(path): np.asarray(x)
        for path, x in jax.tree_util.tree_flatten_with_path(tree)[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("out")
    parser.add_argument("steps", type=int)
    parser.add_argument("--x64", action="store_true", help="as the test suite runs")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", args.x64)
    jax.config.update("jax_numpy_rank_promotion", "raise")

    tx, params, batch = setup()
    target = (params, tx.init(params))
    params, state = checkpoint.restore(args.checkpoint, target)
    params, state = train(
        gradtx.make_step(tx, loss_fn), params, state, batch, args.steps
    )
    np.savez(args.out, **flat(params))


if __name__ == "__main__":
    main()
