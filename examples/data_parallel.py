"""Data-parallel training of a Flax NNX CNN with gradtx on a device mesh.

The batch is split along a ``data`` mesh axis, the model and optimizer state
are replicated, and ``jit`` partitions the step (SPMD): each device computes
the gradients of its slice and XLA averages them. BatchNorm's batch
statistics are means over the batch axis, so under SPMD ``jit`` they are
taken over the *global* batch, synchronized across devices with no extra
code (under ``shard_map`` or ``pmap`` pass ``axis_name=`` to
``gradtx.nn.BatchNorm`` instead). The loss curve therefore equals a
one-device run's.

On one machine, fake 8 CPU devices::

    XLA_FLAGS=--xla_force_host_platform_device_count=8 \\
        python examples/data_parallel.py --devices 8

On a TPU pod slice or several GPU hosts the same code runs on every host
after ``jax.distributed.initialize()`` (first line of ``main``; with no
arguments it reads the cluster from the environment on Cloud TPU, SLURM and
Open MPI): ``jax.devices()`` then lists every device of every host, the mesh
spans them, and each host feeds its own shard of the batch
(``jax.make_array_from_process_local_data`` in place of ``device_put``).
Optimizer state can be sharded too (ZeRO-1) with ``--zero``, which wraps the
optimizer in ``gradtx.shard_state``.
"""

from __future__ import annotations

import argparse
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec
from sklearn.datasets import load_digits

import gradtx
import gradtx.nn


class CNN(nnx.Module):
    """conv-BN-relu x2, average pool, linear."""

    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(1, 16, (3, 3), use_bias=False, rngs=rngs)
        self.bn1 = gradtx.nn.BatchNorm(16, momentum=0.9, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), use_bias=False, rngs=rngs)
        self.bn2 = gradtx.nn.BatchNorm(32, momentum=0.9, rngs=rngs)
        self.head = nnx.Linear(4 * 4 * 32, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jax.nn.relu(self.bn1(self.conv1(x)))
        x = jax.nn.relu(self.bn2(self.conv2(x)))
        x = nnx.avg_pool(x, (2, 2), strides=(2, 2))
        return self.head(x.reshape(x.shape[0], -1))


@nnx.jit
def train_step(
    model: CNN, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array
) -> jax.Array:
    """One step; the partitioning follows the shardings of the inputs."""

    def loss_fn(m: CNN) -> jax.Array:
        logp = jax.nn.log_softmax(m(x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Trains on ``--devices`` devices; returns the losses and final statistics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=len(jax.devices()))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--zero", action="store_true", help="ZeRO-1 state sharding")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    # Several hosts: call jax.distributed.initialize() here, before anything else.
    devices = np.array(jax.devices()[: args.devices])
    mesh = jax.sharding.Mesh(devices, ("data",))  # Auto axes: jit partitions
    batch_sharding = NamedSharding(mesh, PartitionSpec("data"))
    replicated = NamedSharding(mesh, PartitionSpec())

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    y = y.astype(np.int32)
    model = CNN(nnx.Rngs(0))
    tx = gradtx.adamw(3e-3, weight_decay=1e-4, mask=gradtx.decay_mask)
    if args.zero:
        tx = gradtx.shard_state(tx, mesh, "data")
    nnx.update(model, jax.device_put(nnx.state(model), replicated))
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)

    rng = np.random.default_rng(0)
    losses = []
    for step in range(args.steps):
        idx = rng.choice(len(x), args.batch_size, replace=False)
        xb = jax.device_put(x[idx], batch_sharding)
        yb = jax.device_put(y[idx], batch_sharding)
        losses.append(float(train_step(model, optimizer, xb, yb)))
        if not args.quiet and step % 10 == 0:
            print(f"step {step:3d}  loss {losses[-1]:.4f}  ({args.devices} devices)")
    return {
        "losses": losses,
        "bn1_mean": np.asarray(model.bn1.mean[...]).tolist(),
        "kernel": np.asarray(model.head.kernel[...]).ravel()[:16].tolist(),
    }


if __name__ == "__main__":
    main()
