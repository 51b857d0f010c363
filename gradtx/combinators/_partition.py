"""``partition``: a different transformation for each labelled group of leaves."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, NamedTuple

import jax

from gradtx._internal import validate
from gradtx.core import (
    GradientTransformation,
    GradientTransformationExtraArgs,
    MaskedState,
    Params,
    Updates,
    as_transformation,
    masked,
)
from gradtx.tree import is_mask_fn

__all__ = ["PartitionState", "multi_transform", "partition"]

Labels = Any | Callable[[Params], Any]


class PartitionState(NamedTuple):
    """State of :func:`partition`: one :class:`~gradtx.MaskedState` per label."""

    inner_states: dict[Hashable, MaskedState]


def _labels(
    fn: str, param_labels: Labels, tree: Any, known: Mapping[Hashable, Any]
) -> Any:
    # As with masks: a plain function is called, a callable pytree is a tree.
    labels = param_labels(tree) if is_mask_fn(param_labels) else param_labels
    for path, label in jax.tree_util.tree_flatten_with_path(labels)[0]:
        if label not in known:
            raise validate.error(
                ValueError,
                fn,
                f"param_labels{jax.tree_util.keystr(path)} is {label!r}, which has "
                f"no transformation; the transforms are for {sorted(map(repr, known))}."
                " Add a transformation for it (gradtx.set_to_zero() freezes it).",
            )
    return labels


def partition(
    transforms: Mapping[Hashable, GradientTransformation],
    param_labels: Labels,
    *,
    mask_compatible_extra_args: bool = False,
) -> GradientTransformationExtraArgs:
    """Applies a different transformation to each labelled group of parameters.

    ``param_labels`` gives every leaf (or, as a prefix tree, every subtree) a
    label, and ``transforms`` maps each label to the transformation for the
    leaves carrying it. Each transformation sees only its own leaves (as
    :func:`~gradtx.masked` does) and keeps state only for them.

    A label with no transformation is an error naming the leaf's path (a
    typo in a label or a key would otherwise surface as a cryptic KeyError or
    train with the wrong settings). A transformation whose label no leaf
    carries is allowed, as in optax: an empty group (nothing to freeze in this
    model) keeps the state of a transformation of no leaves.

    Args:
      transforms: label -> transformation.
      param_labels: a pytree of labels with the structure of the params (or a
        prefix of it), or a function ``params -> such a tree`` (called with
        the updates in ``update``, as optax does). A plain function is called;
        a callable pytree (an NNX module) is read as a tree of labels.
      mask_compatible_extra_args: give each transformation only its own
        leaves of every extra ``update`` argument shaped like the updates (as
        :func:`~gradtx.masked` and optax's keyword do).

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`PartitionState`.

    Raises:
      TypeError: a value of ``transforms`` is not a transformation.
      ValueError: a label has no transformation, or a transformation has no
        leaf.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
      >>> tx = gradtx.partition(
      ...     {"weights": gradtx.sgd(0.1), "biases": gradtx.sgd(0.0)},
      ...     {"w": "weights", "b": "biases"},
      ... )
      >>> updates, _ = tx.update(params, tx.init(params))
      >>> updates["w"], updates["b"]
      (Array([-0.1, -0.1], dtype=float32), Array([-0., -0.], dtype=float32))
    """
    fn = validate.who("partition")
    if not isinstance(transforms, Mapping) or not transforms:
        raise validate.error(
            TypeError,
            fn,
            f"transforms is {transforms!r}; expected a non-empty mapping from "
            "labels to transformations, e.g. {'decay': adamw(...), 'no_decay': "
            "adam(...)}.",
        )
    txs = {
        label: as_transformation(tx, f"transforms[{label!r}]")
        for label, tx in transforms.items()
    }

    def group_masks(tree: Any) -> dict[Hashable, Any]:
        labels = _labels(fn, param_labels, tree, txs)
        return {k: jax.tree.map(lambda x, k=k: x == k, labels) for k in txs}

    def init(params: Params) -> PartitionState:
        masks = group_masks(params)
        return PartitionState(
            {k: masked(tx, masks[k]).init(params) for k, tx in txs.items()}
        )

    def update(
        updates: Updates,
        state: PartitionState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, PartitionState]:
        masks = group_masks(updates)
        new_states = {}
        for k, tx in txs.items():
            updates, new_states[k] = masked(
                tx, masks[k], mask_compatible_extra_args=mask_compatible_extra_args
            ).update(updates, state.inner_states[k], params, **extra_args)
        return updates, PartitionState(new_states)

    return GradientTransformationExtraArgs(init, update)


multi_transform = partition
