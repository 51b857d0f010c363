"""Train a small CNN with BatchNorm and Dropout on the 8x8 digits: Flax NNX + gradtx.

A Flax NNX model built from ``gradtx.nn.BatchNorm`` and ``gradtx.nn.Dropout``
(drop-ins for Flax's), trained by ``nnx.Optimizer`` with gradtx's AdamW as its
``tx`` (``wrt=nnx.Param``: the running statistics are not optimized), weight
decay masked to the kernels by ``gradtx.decay_mask``. After training, the
running statistics are re-estimated from the training data with
``gradtx.nn.recompute_batch_stats`` and the model evaluated again.

    python examples/digits_cnn.py                  # ~98% test accuracy
    python examples/digits_cnn.py --renorm         # Batch Renormalization
    python examples/digits_cnn.py --ghost-batch-size 16 --epochs 5 --quiet
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import gradtx
import gradtx.nn


def load_data(seed: int) -> tuple[np.ndarray, ...]:
    """The 1,797 digits as (N, 8, 8, 1) images in [0, 1], split 80/20."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    y = y.astype(np.int32)
    return tuple(train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y))


class CNN(nnx.Module):
    """conv-BN-ReLU x2, 2x2 average pool, dropout, linear: (N, 8, 8, 1) -> logits."""

    def __init__(self, *, dropout: float, rngs: nnx.Rngs, **norm: Any) -> None:
        self.conv1 = nnx.Conv(1, 16, (3, 3), use_bias=False, rngs=rngs)
        self.bn1 = gradtx.nn.BatchNorm(16, rngs=rngs, **norm)
        self.conv2 = nnx.Conv(16, 32, (3, 3), use_bias=False, rngs=rngs)
        self.bn2 = gradtx.nn.BatchNorm(32, rngs=rngs, **norm)
        self.dropout = gradtx.nn.Dropout(dropout, rngs=rngs)
        self.head = nnx.Linear(4 * 4 * 32, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jax.nn.relu(self.bn1(self.conv1(x)))
        x = jax.nn.relu(self.bn2(self.conv2(x)))
        x = nnx.avg_pool(x, (2, 2), strides=(2, 2))
        return self.head(self.dropout(x.reshape(x.shape[0], -1)))


def cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Mean cross-entropy of the logits against integer labels."""
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


@nnx.jit
def train_step(
    model: CNN, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array
) -> jax.Array:
    """One AdamW step on a batch; updates the model (and its statistics) in place."""

    def loss_fn(m: CNN) -> jax.Array:
        return cross_entropy(m(x), y)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def accuracy(model: CNN, x: jax.Array, y: jax.Array) -> jax.Array:
    """The fraction of correct predictions (in whatever mode the model is in)."""
    return jnp.mean(jnp.argmax(model(x), axis=-1) == y)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Trains the model; returns the final metrics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--renorm", action="store_true", help="Batch Renormalization")
    parser.add_argument("--ghost-batch-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    x_train, x_test, y_train, y_test = load_data(args.seed)
    norm: dict[str, Any] = {"momentum": 0.9}
    if args.renorm:
        steps = args.epochs * (len(x_train) // args.batch_size)
        r_max, d_max = gradtx.nn.renorm_warmup(
            hold_steps=steps // 10, r_max_steps=steps // 2, d_max_steps=steps // 3
        )
        norm.update(renorm=True, r_max=r_max, d_max=d_max)
    if args.ghost_batch_size:
        norm["ghost_batch_size"] = args.ghost_batch_size
    rngs = nnx.Rngs(params=args.seed, dropout=args.seed + 1)
    model = CNN(dropout=args.dropout, rngs=rngs, **norm)
    tx = gradtx.adamw(args.lr, weight_decay=1e-4, mask=gradtx.decay_mask)
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)

    rng = np.random.default_rng(args.seed)
    steps_per_epoch = len(x_train) // args.batch_size  # drop the ragged last batch
    train_loss = test_acc = float("nan")
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = rng.permutation(len(x_train))
        losses = []
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size : (i + 1) * args.batch_size]
            losses.append(train_step(model, optimizer, x_train[idx], y_train[idx]))
        train_loss = float(jnp.mean(jnp.stack(losses)))
        model.eval()
        test_acc = float(accuracy(model, x_test, y_test))
        if not args.quiet:
            print(f"epoch {epoch:3d}  loss {train_loss:.4f}  test acc {test_acc:.4f}")

    # Re-estimate the running statistics on the training data (dropout off).
    batches = [x_train[i : i + 256] for i in range(0, len(x_train) - 255, 256)]
    gradtx.nn.recompute_batch_stats(model, batches)
    recomputed_acc = float(accuracy(model, x_test, y_test))
    seconds = time.perf_counter() - start
    print(
        f"final test accuracy {test_acc:.4f} (after recompute_batch_stats "
        f"{recomputed_acc:.4f})  train loss {train_loss:.4f}  ({seconds:.1f} s)"
    )
    return {
        "test_accuracy": test_acc,
        "test_accuracy_recomputed": recomputed_acc,
        "train_loss": train_loss,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
