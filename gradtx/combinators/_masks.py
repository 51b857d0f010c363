"""Ready-made masks: functions ``params -> pytree of bools``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import jax
import numpy as np

__all__ = ["decay_mask"]

NO_DECAY_NAMES = frozenset({"bias", "scale"})


def _leaf_name(path: tuple[Any, ...]) -> str | None:
    """The innermost name on a key path, skipping Flax NNX's ``.value``."""
    for key in reversed(path):
        if isinstance(key, jax.tree_util.GetAttrKey):
            if key.name != "value":
                return key.name
        elif isinstance(key, jax.tree_util.DictKey):
            return str(key.key)
    return None


def decay_mask(
    params: Any,
    *,
    no_decay_names: Collection[str] = NO_DECAY_NAMES,
    min_ndim: int = 2,
) -> Any:
    """True for the leaves that weight decay should apply to, by convention.

    Weight decay regularizes weight matrices and kernels; decaying biases and
    normalization scales (BatchNorm's or LayerNorm's :math:`\\gamma`) only
    pulls them toward 0 and usually hurts (e.g. Goyal et al. 2017; Loshchilov
    & Hutter 2019 decay the weights). A leaf is decayed when it has at least
    ``min_ndim`` dimensions and its name (the innermost dict key or attribute
    on its path, so ``"bias"`` in ``params["Dense_0"]["bias"]`` and in a Flax
    NNX ``nnx.State``) is not in ``no_decay_names``.

    Use it as the mask of a weight decay: ``adamw(lr, mask=gradtx.decay_mask)``
    or ``add_decayed_weights(wd, mask=gradtx.decay_mask)``; customize with
    ``functools.partial(gradtx.decay_mask, no_decay_names={"bias"})``.

    Args:
      params: the params pytree (dicts, NNX ``State``, lists, ...).
      no_decay_names: leaf names never decayed.
      min_ndim: leaves with fewer dimensions (biases, scales, scalars) are not
        decayed.

    Returns:
      A pytree of Python bools with the structure of ``params``.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"dense": {"kernel": jnp.ones((3, 2)), "bias": jnp.ones(2)},
      ...           "norm": {"scale": jnp.ones(2)}, "temperature": jnp.ones(())}
      >>> gradtx.decay_mask(params)
      {'dense': {'bias': False, 'kernel': True}, 'norm': {'scale': False}, 'temperature': False}
    """  # noqa: E501

    def decide(path: tuple[Any, ...], leaf: Any) -> bool:
        if np.ndim(leaf) < min_ndim:
            return False
        return _leaf_name(path) not in no_decay_names

    return jax.tree_util.tree_map_with_path(decide, params)
