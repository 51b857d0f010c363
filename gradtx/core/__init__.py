"""The gradient-transformation contract, and the kit to write new transformations.

A :class:`GradientTransformation` is a pair of pure functions. ``init(params)``
builds the state (a pytree of NamedTuples); ``update(updates, state, params)``
maps the incoming updates (gradients, at the head of a chain) to outgoing
updates and a new state. Transformations compose with :func:`chain` (and
:func:`named_chain`), apply to a subset of the leaves with :func:`masked`, and
the final updates are added to the params with :func:`apply_updates`.

The contract is optax's, so gradtx and optax transformations mix both ways.
The kit (:func:`init_empty_state`, :func:`check_updates`, :func:`map_leaves`,
:func:`with_extra_args_support`, :func:`stateless`,
:func:`stateless_with_tree_map`) is what gradtx's own transformations are
written with; see the README's "Writing your own transformation".
"""

from gradtx.core._apply import apply_updates as apply_updates
from gradtx.core._chain import chain as chain
from gradtx.core._chain import named_chain as named_chain
from gradtx.core._kit import as_transformation as as_transformation
from gradtx.core._kit import check_updates as check_updates
from gradtx.core._kit import identity as identity
from gradtx.core._kit import init_empty_state as init_empty_state
from gradtx.core._kit import map_leaves as map_leaves
from gradtx.core._kit import stateless as stateless
from gradtx.core._kit import stateless_with_tree_map as stateless_with_tree_map
from gradtx.core._kit import takes_extra_args as takes_extra_args
from gradtx.core._kit import with_extra_args_support as with_extra_args_support
from gradtx.core._masked import MaskedState as MaskedState
from gradtx.core._masked import masked as masked
from gradtx.core._types import EmptyState as EmptyState
from gradtx.core._types import GradientTransformation as GradientTransformation
from gradtx.core._types import (
    GradientTransformationExtraArgs as GradientTransformationExtraArgs,
)
from gradtx.core._types import OptState as OptState
from gradtx.core._types import Params as Params
from gradtx.core._types import TransformInitFn as TransformInitFn
from gradtx.core._types import (
    TransformUpdateExtraArgsFn as TransformUpdateExtraArgsFn,
)
from gradtx.core._types import TransformUpdateFn as TransformUpdateFn
from gradtx.core._types import Updates as Updates

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "GradientTransformationExtraArgs",
    "MaskedState",
    "OptState",
    "Params",
    "TransformInitFn",
    "TransformUpdateExtraArgsFn",
    "TransformUpdateFn",
    "Updates",
    "apply_updates",
    "as_transformation",
    "chain",
    "check_updates",
    "identity",
    "init_empty_state",
    "map_leaves",
    "masked",
    "named_chain",
    "stateless",
    "stateless_with_tree_map",
    "takes_extra_args",
    "with_extra_args_support",
]
