"""Pytree utilities: the floor that transformations and combinators build on.

The functions optax users know from ``optax.tree`` (same names, arguments,
defaults and results), plus gradtx's own: :func:`all_finite`, the mask
helpers (:class:`MaskedNode`, :func:`resolve_mask`, :func:`apply_mask`...) and
:func:`decay_mask`, weight decay's usual mask.
Masks, norms and finiteness checks live here so that ``gradtx.transforms``
and ``gradtx.combinators`` share them without importing each other.

Where gradtx differs from ``optax.tree`` on purpose:

- **Precision.** ``sum``, ``vdot`` and ``norm`` accumulate float16/bfloat16
  leaves in at least float32 and return that dtype (``norm`` always returns
  a real floating scalar, in the widest real dtype of the tree); the moment
  updates and ``bias_correction`` compute in at least float32 and round once,
  to the moment's own dtype, which they keep. optax computes in the leaves'
  dtypes and returns the promoted dtype.
- **Exact integers.** ``max``/``min`` of integer leaves are integers
  (optax's are floats); integer sums stay integer, as in optax.
- **Strictness.** Trees that must match raise a
  :class:`~gradtx.TreeMismatchError` (a ``ValueError``) naming the first path
  where they differ, also where a leaf faces a subtree (``jax.tree.map``
  would pass the subtree on; ``None`` leaves of the first tree of
  ``add_scale`` and of the updates still face anything, as in optax);
  ``cast``/``cast_like`` refuse to drop an imaginary part; a moment must be
  floating, and a real moment of complex updates raises. Messages start with
  the name of the function called.
- **Extensions.** ``where`` also takes a tree of conditions; the L-infinity
  ``norm`` of an empty tree is 0 (optax: ``-inf``).
- ``get`` and ``set`` are gradtx's :func:`~gradtx.tree_get` /
  :func:`~gradtx.tree_set` (``"adam/count"`` paths, checked values), not
  optax's; see their module.

Everything works under ``jit`` and ``vmap``: decisions are made from
structure, shapes and dtypes (static), never from traced values.
"""

from gradtx.tree._arith import add as add
from gradtx.tree._arith import add_scale as add_scale
from gradtx.tree._arith import clip as clip
from gradtx.tree._arith import conj as conj
from gradtx.tree._arith import div as div
from gradtx.tree._arith import mul as mul
from gradtx.tree._arith import real as real
from gradtx.tree._arith import scale as scale
from gradtx.tree._arith import sub as sub
from gradtx.tree._arith import where as where
from gradtx.tree._create import batch_shape as batch_shape
from gradtx.tree._create import full_like as full_like
from gradtx.tree._create import ones_like as ones_like
from gradtx.tree._create import zeros_like as zeros_like
from gradtx.tree._dtypes import cast as cast
from gradtx.tree._dtypes import cast_like as cast_like
from gradtx.tree._dtypes import dtype as dtype
from gradtx.tree._find import NamedTupleKey as NamedTupleKey
from gradtx.tree._find import get_all_with_path as get_all_with_path
from gradtx.tree._find import map_params as map_params
from gradtx.tree._masks import Mask as Mask
from gradtx.tree._masks import MaskedNode as MaskedNode
from gradtx.tree._masks import apply_mask as apply_mask
from gradtx.tree._masks import check_mask as check_mask
from gradtx.tree._masks import decay_mask as decay_mask
from gradtx.tree._masks import is_mask_fn as is_mask_fn
from gradtx.tree._masks import resolve_mask as resolve_mask
from gradtx.tree._moments import bias_correction as bias_correction
from gradtx.tree._moments import update_infinity_moment as update_infinity_moment
from gradtx.tree._moments import update_moment as update_moment
from gradtx.tree._moments import (
    update_moment_per_elem_norm as update_moment_per_elem_norm,
)
from gradtx.tree._norm import norm as norm
from gradtx.tree._random import random_like as random_like
from gradtx.tree._random import split_key_like as split_key_like
from gradtx.tree._random import unwrap_random_key_data as unwrap_random_key_data
from gradtx.tree._reduce import all_finite as all_finite
from gradtx.tree._reduce import allclose as allclose
from gradtx.tree._reduce import max as max
from gradtx.tree._reduce import min as min
from gradtx.tree._reduce import size as size
from gradtx.tree._reduce import sum as sum
from gradtx.tree._reduce import vdot as vdot
from gradtx.tree._state import tree_get as get
from gradtx.tree._state import tree_set as set

__all__ = [
    "Mask",
    "MaskedNode",
    "NamedTupleKey",
    "add",
    "add_scale",
    "all_finite",
    "allclose",
    "apply_mask",
    "batch_shape",
    "bias_correction",
    "cast",
    "cast_like",
    "check_mask",
    "clip",
    "conj",
    "decay_mask",
    "div",
    "dtype",
    "full_like",
    "get",
    "get_all_with_path",
    "is_mask_fn",
    "map_params",
    "max",
    "min",
    "mul",
    "norm",
    "ones_like",
    "random_like",
    "real",
    "resolve_mask",
    "scale",
    "set",
    "size",
    "split_key_like",
    "sub",
    "sum",
    "unwrap_random_key_data",
    "update_infinity_moment",
    "update_moment",
    "update_moment_per_elem_norm",
    "vdot",
    "where",
    "zeros_like",
]
