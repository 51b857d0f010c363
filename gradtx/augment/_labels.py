"""Labels for mixup and cutmix: checked one-hot rows, and their mixing.

Integer labels must lie in ``[0, num_classes)``: ``jax.nn.one_hot`` turns any
other label into a row of zeros, and that example's label mass would silently
vanish from the mixed labels. Concrete labels are checked at once (and raise,
naming the first bad example); traced labels cannot be checked without a host
round trip, so the row of a bad one is NaN, and so is every mixed row that
draws on it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate
from gradtx.augment._common import invalid_where

__all__ = ["mix_labels", "one_hot", "prepare_labels"]

_INT_LABELS_NEED_CLASSES = (
    "{fn}: labels are integer class indices (dtype {dtype}, shape {shape}); "
    "mixing needs one-hot labels. Either pass num_classes=K to one-hot them, "
    "e.g. {fn}(key, images, labels, alpha, num_classes=10), or pass one-hot / "
    "soft float labels of shape (batch, K): jax.nn.one_hot(labels, K)."
)

_LABEL_OUT_OF_RANGE = (
    "{fn}: labels[{index}] is {value}, outside [0, num_classes) = [0, {k}); "
    "{count} of {batch} labels are out of range. Integer labels are class indices "
    "0..{last}: jax.nn.one_hot would map this one to a row of zeros, and the "
    "example's label mass would silently vanish from the mixed labels. If the "
    "labels count from 1, pass labels - 1; if there are more classes, raise "
    "num_classes."
)


def prepare_labels(fn: str, labels: Any, batch: int, num_classes: Any) -> jax.Array:
    """Returns the labels as float (batch, K) rows, one-hot encoding integers."""
    if not hasattr(labels, "shape") or not hasattr(labels, "dtype"):
        raise TypeError(
            f"{fn}: labels must be an array, (batch, K) float or (batch,) int, "
            f"got {type(labels).__name__}."
        )
    labels = jnp.asarray(labels)
    dtype = jnp.dtype(labels.dtype)
    shape = tuple(labels.shape)
    if jnp.issubdtype(dtype, jnp.integer):
        if num_classes is None:
            raise ValueError(
                _INT_LABELS_NEED_CLASSES.format(fn=fn, dtype=dtype, shape=shape)
            )
        validate.integer(
            fn, "num_classes", num_classes, low=1, meaning="the number of classes"
        )
        if len(shape) != 1:
            raise ValueError(
                f"{fn}: integer labels must have shape (batch,), got shape {shape}."
            )
        labels = one_hot(fn, labels, int(num_classes))
    elif jnp.issubdtype(dtype, jnp.floating):
        if len(shape) != 2:
            raise ValueError(
                f"{fn}: float labels must be one-hot or soft, of shape (batch, K), "
                f"got shape {shape}. For class indices, pass an int array of "
                "shape (batch,) with num_classes=K."
            )
        if num_classes is not None and num_classes != shape[1]:
            raise ValueError(
                f"{fn}: num_classes={num_classes!r} but labels have shape {shape} "
                f"({shape[1]} classes); drop num_classes or make them agree."
            )
    else:
        raise TypeError(
            f"{fn}: labels have dtype {dtype}; expected int class indices or "
            "float one-hot / soft labels."
        )
    if labels.shape[0] != batch:
        raise ValueError(
            f"{fn}: labels have shape {shape}, a batch of {shape[0]}, but images "
            f"have a batch of {batch}; expected one label per image."
        )
    return labels


def one_hot(fn: str, labels: jax.Array, num_classes: int) -> jax.Array:
    """One-hot float32 rows; a label outside [0, num_classes) is an error.

    Concrete labels raise; traced labels cannot be checked, so their rows are
    NaN instead of the zeros ``jax.nn.one_hot`` gives.
    """
    if isinstance(labels, jax.core.Tracer):
        valid = (labels >= 0) & (labels < num_classes)
        hot = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)
        return invalid_where(hot, valid[:, None])
    values = np.asarray(labels)
    bad = np.flatnonzero((values < 0) | (values >= num_classes))
    if bad.size:
        raise ValueError(
            _LABEL_OUT_OF_RANGE.format(
                fn=fn,
                index=int(bad[0]),
                value=int(values[bad[0]]),
                k=num_classes,
                count=bad.size,
                batch=values.shape[0],
                last=num_classes - 1,
            )
        )
    return jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)


def mix_labels(labels: jax.Array, perm: jax.Array, lam: jax.Array) -> jax.Array:
    """``lam * y + (1 - lam) * y[perm]`` in the labels' dtype."""
    mixed = lam * labels + (1.0 - lam) * labels[perm]
    return mixed.astype(labels.dtype)
