"""Masks: which leaves of a tree a transformation applies to.

A mask is a pytree of Python bools with the structure of the params, or a
prefix of it (one bool for a whole subtree), or a function ``params -> such a
tree``. The bools must be Python (or NumPy) bools, known when a step is
traced, not JAX arrays: a mask decides the structure of an optimizer's state.
:func:`resolve_mask` turns a mask into one bool per leaf of the params, and
:func:`apply_mask` puts a :class:`MaskedNode` where the mask is False;
:func:`decay_mask` is a ready-made mask function (weight decay's convention).
:func:`gradtx.masked` applies a transformation through a mask with them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, NamedTuple

import jax
import numpy as np

from gradtx.tree._common import broadcast_prefix, map_trees, validate
from gradtx.tree._find import is_params_placeholder

__all__ = [
    "Mask",
    "MaskedNode",
    "apply_mask",
    "check_mask",
    "decay_mask",
    "is_mask_fn",
    "resolve_mask",
]

Mask = Any | Callable[[Any], Any]
"""A pytree of Python bools, or a function ``params -> such a tree``."""

_PREFIX_HINT = (
    "a mask must have the structure of the params, or a prefix of it (one bool "
    "for a whole subtree)."
)


class MaskedNode(NamedTuple):
    """Stands for a masked-out leaf: a pytree node with no leaves.

    A transformation applied through a mask sees a ``MaskedNode()`` where a
    masked-out leaf was, so ``jax.tree.map`` skips it and the transformation
    keeps no state for it.

    Example:
      >>> import gradtx.tree, jax
      >>> jax.tree.leaves({"w": 1.0, "b": gradtx.tree.MaskedNode()})
      [1.0]
    """


def is_mask_fn(mask: Any) -> bool:
    """Whether ``mask`` is a function to call with the params (not a mask tree).

    Only plain callables that are pytree leaves (functions, ``partial``\\ s)
    are called; a callable that is itself a pytree (a Flax NNX or equinox
    module) is read as a mask tree.

    Args:
      mask: a mask tree or a mask function.

    Returns:
      True for a function.

    Example:
      >>> import gradtx.tree
      >>> gradtx.tree.is_mask_fn(lambda p: True), gradtx.tree.is_mask_fn({"w": True})
      (True, False)
    """
    return callable(mask) and jax.tree_util.treedef_is_leaf(jax.tree.structure(mask))


def check_mask(mask: Mask) -> None:
    """Raises now if ``mask`` is a tree with a leaf that is not a Python bool.

    For checking a mask when a transformation is built, before any params are
    seen; a mask function is checked when :func:`resolve_mask` calls it.

    Args:
      mask: a mask tree or a mask function.

    Raises:
      TypeError: a leaf of a mask tree is not a bool (an array, say).

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.check_mask({"w": jnp.array(True)})
      Traceback (most recent call last):
      TypeError: check_mask: mask['w'] is Array(True, dtype=bool); mask leaves must be Python bools (True: transform this leaf), known when the step is traced (NumPy bools too), not JAX arrays.
    """  # noqa: E501
    if not is_mask_fn(mask):
        validate.mask_tree("check_mask", mask)


def resolve_mask(mask: Mask, params: Any) -> Any:
    """The mask for ``params``: one Python bool per leaf of ``params``.

    A mask function is called with ``params``; a prefix mask is expanded (each
    bool repeated over its subtree), so the result has exactly the structure
    of ``params`` (``None`` and :class:`MaskedNode` subtrees included).

    Args:
      mask: a pytree of Python bools with the structure of ``params`` or a
        prefix of it, or a function ``params -> such a tree``.
      params: the tree the mask is for (params, or updates shaped like them).

    Returns:
      A pytree of bools with the structure of ``params``.

    Raises:
      TypeError: a mask leaf is not a Python bool.
      TreeMismatchError: the mask's structure is not a prefix of the params';
        the message names the first path where they differ.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> params = {"enc": {"w": jnp.ones(2), "b": jnp.ones(2)}, "head": jnp.ones(2)}
      >>> gradtx.tree.resolve_mask({"enc": False, "head": True}, params)
      {'enc': {'b': False, 'w': False}, 'head': True}
      >>> gradtx.tree.resolve_mask(lambda p: {"enc": True, "head": False}, params)
      {'enc': {'b': True, 'w': True}, 'head': False}
    """
    if is_params_placeholder(params):
        # map_params traces an init with a stand-in for the params: keep it
        # whole, so the state holds it where the params' copies go (optax's
        # masked does the same).
        return True
    tree = mask(params) if is_mask_fn(mask) else mask
    validate.mask_tree("resolve_mask", tree)
    tree = jax.tree.map(bool, tree)  # NumPy bools become Python's
    return broadcast_prefix(
        tree, params, names=("mask", "params"), hint=_PREFIX_HINT, who="resolve_mask"
    )


def apply_mask(tree: Any, mask: Any) -> Any:
    """``tree`` with a :class:`MaskedNode` in place of each masked-out leaf.

    What a transformation applied through ``mask`` sees: the leaves where the
    mask is True, and empty nodes elsewhere.

    Args:
      tree: a pytree (params or updates).
      mask: a pytree of Python bools with the structure of ``tree`` or a
        prefix of it, e.g. from :func:`resolve_mask` (a mask function must be
        resolved first).

    Returns:
      A pytree like ``tree``, with ``MaskedNode()`` for every leaf whose mask
      is False.

    Raises:
      TypeError: a mask leaf is not a Python bool.
      TreeMismatchError: the mask's structure is not a prefix of ``tree``'s.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.apply_mask({"w": jnp.ones(2), "b": jnp.ones(2)},
      ...                        {"w": True, "b": False})
      {'b': MaskedNode(), 'w': Array([1., 1.], dtype=float32)}
    """
    validate.mask_tree("apply_mask", mask)

    def pick(keep: bool, sub: Any) -> Any:
        return sub if keep else jax.tree.map(lambda _: MaskedNode(), sub)

    return map_trees(
        pick,
        mask,
        tree,
        names=("mask", "tree"),
        prefix=True,
        hint=_PREFIX_HINT,
        who="apply_mask",
    )


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
