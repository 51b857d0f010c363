"""The networks of the comparison tool, as pure functions of a params pytree.

Pure functions (not modules) so that a whole population of runs (seeds,
learning rates) is one ``jax.vmap`` away: params, optimizer state and
BatchNorm statistics all carry a leading run axis.

* ``image`` tasks: conv 3x3 (16) -> conv 3x3 stride 2 (32) -> dropout -> dense.
* ``tabular`` tasks: dense 64 -> dense 64 -> dropout -> dense.

Each hidden layer is followed by BatchNorm (if the variant asks) and the
activation. Weights come from ``gradtx.init``, biases are 0.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from gradtx import activations, init
from gradtx._internal import validate
from gradtx.compare._tasks import Task
from gradtx.compare._variants import Variant

# Not exported: check_network, a domain check (see tests/test_layering.py).
__all__ = [
    "activation_size",
    "apply",
    "init_model",
    "loss_and_accuracy",
    "param_size",
]

Params = dict[str, dict[str, jax.Array]]
Stats = dict[str, dict[str, jax.Array]]
F32 = jnp.float32
_NETWORKS = {
    "image": "3x3 convolutions, then a dense classifier",
    "tabular": "dense layers",
}


def _hidden_shapes(task: Task) -> list[tuple[int, ...]]:
    if task.kind == "image":
        channels = task.x_train.shape[-1]
        return [(3, 3, channels, 16), (3, 3, 16, 32)]
    return [(task.x_train.shape[-1], 64), (64, 64)]


def _head_inputs(task: Task) -> int:
    if task.kind == "image":
        h, w = task.x_train.shape[1:3]
        return ((h + 1) // 2) * ((w + 1) // 2) * 32
    return 64


def init_model(key: jax.Array, task: Task, variant: Variant) -> tuple[Params, Stats]:
    """Fresh params and BatchNorm statistics for ``task`` and ``variant``."""
    kernel_init = init.get(variant.init)
    shapes = [*_hidden_shapes(task), (_head_inputs(task), task.num_classes)]
    keys = jax.random.split(key, len(shapes))
    params: Params = {}
    stats: Stats = {}
    for i, (k, shape) in enumerate(zip(keys, shapes, strict=True)):
        width = shape[-1]
        params[f"layer{i}"] = {
            "kernel": kernel_init(k, shape, F32),
            "bias": jnp.zeros((width,), F32),
        }
        if variant.batchnorm and i < len(shapes) - 1:
            params[f"norm{i}"] = {
                "scale": jnp.ones((width,), F32),
                "bias": jnp.zeros((width,), F32),
            }
            stats[f"norm{i}"] = {
                "mean": jnp.zeros((width,), F32),
                "var": jnp.ones((width,), F32),
            }
    return params, stats


def param_size(task: Task, variant: Variant) -> int:
    """The number of parameters :func:`init_model` creates, from the shapes
    alone (BatchNorm statistics, which are state, included)."""
    shapes = [*_hidden_shapes(task), (_head_inputs(task), task.num_classes)]
    size = sum(math.prod(shape) + shape[-1] for shape in shapes)
    if variant.batchnorm:
        size += sum(4 * shape[-1] for shape in shapes[:-1])
    return size


def activation_size(task: Task, variant: Variant) -> int:
    """The numbers one example makes on its way through the network: the
    input, the patch matrices of the convolutions, each hidden layer's output
    (twice with BatchNorm) and activation, and the logits."""
    layers = _hidden_shapes(task)
    size = math.prod(task.x_train.shape[1:]) + task.num_classes
    h, w = task.x_train.shape[1:3] if task.kind == "image" else (1, 1)
    for i, shape in enumerate(layers):
        if task.kind == "image":
            stride = 1 + i
            h, w = -(-h // stride), -(-w // stride)
            size += h * w * 9 * shape[-2]  # the patches
        size += h * w * shape[-1] * (3 if variant.batchnorm else 2)
    return size


def check_network(task: Task, variant: Variant) -> None:
    """Raises ValueError (as ``run``'s) unless ``variant`` builds ``task``'s network.

    Traces one training step's forward pass on one example without computing
    anything (``jax.eval_shape``), so an initializer or activation that does
    not fit the layers (``eye`` on a convolution, a gated activation that
    halves the width, one that needs an argument or a key) is found before
    any training starts.
    """

    def forward(key: jax.Array) -> tuple[jax.Array, Stats]:
        params, stats = init_model(key, task, variant)
        x = jnp.zeros((1, *task.x_train.shape[1:]), F32)
        return apply(
            params,
            stats,
            x,
            variant=variant,
            task=task,
            training=True,
            key=key,
            dropout=variant.dropout,
        )

    try:
        jax.eval_shape(forward, jax.random.key(0))
    except (TypeError, ValueError) as err:
        cause = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise validate.error(
            ValueError,
            "run",
            f"init={variant.init!r} with activation={variant.activation!r} cannot "
            f"build the {task.name} network ({_NETWORKS[task.kind]}): "
            f"{cause.rstrip('.')}. Only names that need no arguments and fit every "
            "layer can be compared.",
        ) from None


def _conv3x3(x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
    """A SAME 3x3 convolution (NHWC, HWIO) as one matrix product of patches.

    Under ``vmap`` over runs this stays a batched matmul; XLA:CPU lowers a
    vmapped ``conv_general_dilated`` to a grouped convolution, several times
    slower at these sizes.
    """
    _, h, w, c = x.shape
    out_h, out_w = -(-h // stride), -(-w // stride)
    pad_h = max((out_h - 1) * stride + 3 - h, 0)
    pad_w = max((out_w - 1) * stride + 3 - w, 0)
    padded = jnp.pad(
        x,
        (
            (0, 0),
            (pad_h // 2, pad_h - pad_h // 2),
            (pad_w // 2, pad_w - pad_w // 2),
            (0, 0),
        ),
    )
    span_h, span_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    patches = jnp.concatenate(
        [
            padded[:, i : i + span_h : stride, j : j + span_w : stride]
            for i in range(3)
            for j in range(3)
        ],
        axis=-1,
    )
    return patches @ kernel.reshape(9 * c, kernel.shape[-1])


def _layer(
    x: jax.Array, layer: dict[str, jax.Array], stride: int, image: bool
) -> jax.Array:
    if image:
        y = _conv3x3(x, layer["kernel"], stride)
        return y + layer["bias"][None, None, None, :]
    return x @ layer["kernel"] + layer["bias"][None, :]


def apply(
    params: Params,
    stats: Stats,
    x: jax.Array,
    *,
    variant: Variant,
    task: Task,
    training: bool,
    key: jax.Array | None = None,
    dropout: Any = None,
) -> tuple[jax.Array, Stats]:
    """Logits for the batch ``x`` and the updated BatchNorm statistics.

    ``dropout`` (the rate, possibly traced) replaces the variant's.
    """
    from gradtx.nn import functional

    act = activations.get(variant.activation)
    image = task.kind == "image"
    new_stats: Stats = {}
    hidden = len(_hidden_shapes(task))
    for i in range(hidden):
        x = _layer(x, params[f"layer{i}"], 1 + i if image else 1, image)
        if variant.batchnorm:
            norm, stat = params[f"norm{i}"], stats[f"norm{i}"]
            x, mean, var = functional.batch_norm(
                x,
                norm["scale"],
                norm["bias"],
                stat["mean"],
                stat["var"],
                momentum=0.9,
                training=training,
            )
            new_stats[f"norm{i}"] = {"mean": mean, "var": var}
        x = act(x)
    x = x.reshape(x.shape[0], -1)
    if variant.dropout > 0:
        rate = variant.dropout if dropout is None else dropout
        x = functional.dropout(key, x, rate, deterministic=not training)
    return _layer(x, params[f"layer{hidden}"], 1, False), new_stats


def loss_and_accuracy(
    logits: jax.Array, labels: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Mean softmax cross-entropy and accuracy for integer labels."""
    logp = jax.nn.log_softmax(logits)
    loss = -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))
    acc = jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(F32))
    return loss, acc
