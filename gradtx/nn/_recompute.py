"""Re-estimating BatchNorm running statistics after training or weight averaging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
from flax import nnx

from gradtx.nn._batch_norm import BatchNorm

__all__ = ["recompute_batch_stats"]


_NORMS = (BatchNorm, nnx.BatchNorm)


def recompute_batch_stats(
    model: nnx.Module,
    batches: Iterable[Any],
    *,
    forward: Callable[[nnx.Module, Any], Any] | None = None,
) -> int:
    r"""Re-estimates every BatchNorm's running statistics from ``batches``.

    After training, and above all after averaging weights (SWA, EMA of
    weights, model soups), the running statistics no longer describe the
    network's activations. This runs the model over ``batches`` with batch
    statistics and sets each layer's ``mean`` and ``var`` to the cumulative
    (equal-weight) average of the per-batch statistics, replacing the old
    values (as PyTorch's ``torch.optim.swa_utils.update_bn``):

    .. math:: \hat\mu = \tfrac1K \textstyle\sum_k \mu_{B_k}, \quad
              \hat\sigma^2 = \tfrac1K \textstyle\sum_k \sigma^2_{B_k}

    The pass runs on a view of ``model`` (``nnx.view``) in which dropout and
    other stochastic layers are off (``deterministic=True``), so the
    statistics describe the activations seen at evaluation time, and
    BatchNorm layers use batch statistics (Batch Renorm layers plain ones;
    ghost batches are kept). ``model`` itself keeps its modes and every
    parameter; only the ``mean`` and ``var`` of its ``gradtx.nn.BatchNorm``
    and ``flax.nnx.BatchNorm`` layers change, and they are left untouched if
    the pass fails. The forward pass is jit-compiled once per batch shape.

    Args:
      model: a Flax NNX model with BatchNorm layers.
      batches: an iterable of batches (e.g. training inputs; a few hundred
        examples in total are usually enough).
      forward: ``forward(model, batch)`` runs the model on a batch; by default
        ``model(batch)``. Use it for ``(inputs, labels)`` batches or models
        with extra arguments, e.g. ``lambda m, b: m(b[0])``.

    Returns:
      The number of batches used.

    Raises:
      ValueError: the model has no BatchNorm layer, or ``batches`` is empty.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import nnx
      >>> import gradtx.nn
      >>> model = nnx.Sequential(nnx.Linear(2, 3, rngs=nnx.Rngs(0)),
      ...                        gradtx.nn.BatchNorm(3, rngs=nnx.Rngs(0)))
      >>> batches = [jax.random.normal(jax.random.key(i), (16, 2)) for i in range(4)]
      >>> gradtx.nn.recompute_batch_stats(model, batches)
      4
      >>> before = model.layers[1].mean[...]
      >>> lin = model.layers[0]
      >>> lin.bias[...] = lin.bias[...] + 1.0  # e.g. after averaging weights
      >>> _ = gradtx.nn.recompute_batch_stats(model, batches)
      >>> (model.layers[1].mean[...] - before).round(4)  # the statistics follow
      Array([1., 1., 1.], dtype=float32)
    """
    originals = [m for _, m in nnx.iter_modules(model) if isinstance(m, _NORMS)]
    if not originals:
        raise ValueError(
            "recompute_batch_stats: the model has no BatchNorm layer "
            "(gradtx.nn.BatchNorm or flax.nnx.BatchNorm); nothing to recompute."
        )
    saved = [(m.mean[...], m.var[...]) for m in originals]
    view = nnx.view(
        model, raise_if_not_found=False, deterministic=True, use_running_average=False
    )
    layers = [m for _, m in nnx.iter_modules(view) if isinstance(m, _NORMS)]
    for layer in layers:
        layer.momentum = 0.0  # each call leaves exactly the batch's statistics
        if isinstance(layer, BatchNorm):
            layer.renorm = False
    run = forward if forward is not None else (lambda m, b: m(b))

    @nnx.jit
    def one_batch(m: nnx.Module, batch: Any) -> None:
        run(m, batch)

    sums: list[tuple[jax.Array, jax.Array]] = []
    count = 0
    try:
        for batch in batches:
            one_batch(view, batch)
            stats = [(layer.mean[...], layer.var[...]) for layer in layers]
            sums = (
                stats
                if not sums
                else [
                    (a + m, b + v) for (a, b), (m, v) in zip(sums, stats, strict=True)
                ]
            )
            count += 1
        if count == 0:
            raise ValueError("recompute_batch_stats: batches is empty.")
    except BaseException:
        for layer, (mean, var) in zip(originals, saved, strict=True):
            layer.mean[...], layer.var[...] = mean, var
        raise
    for layer, (mean_sum, var_sum) in zip(originals, sums, strict=True):
        layer.mean[...] = mean_sum / count
        layer.var[...] = var_sum / count
    return count
