"""Finding the parts of an optimizer state, optax's way: ``get_all_with_path``
(every entry with a name, and its key path) and ``map_params`` (every copy of
the params tree).

Both give ``optax.tree``'s results. Paths hold a :class:`NamedTupleKey` for
each NamedTuple field, so a ``filtering`` function can tell
``ScaleByAdamState.count`` from another state's ``count``. gradtx's own
lookups by name, ``get`` and ``set`` (``"adam/count"`` paths, checked values),
are in ``gradtx.tree._state``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import jax

from gradtx.tree._common import validate

__all__ = ["NamedTupleKey", "get_all_with_path", "map_params"]

KeyPath = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class NamedTupleKey:
    """A key-path entry for a NamedTuple field: the tuple's class and the field.

    :func:`get_all_with_path` puts one in a path where JAX would put a
    ``GetAttrKey``/``SequenceKey``, so a ``filtering(path, value)`` function
    can check ``path[-1].tuple_name``. Printed as ``ScaleByAdamState.count``
    (also by ``jax.tree_util.keystr``).

    Attributes:
      tuple_name: the NamedTuple's class name.
      name: the field's name.

    Example:
      >>> import gradtx.tree
      >>> str(gradtx.tree.NamedTupleKey("ScaleByAdamState", "count"))
      'ScaleByAdamState.count'
    """

    tuple_name: str
    name: str

    def __str__(self) -> str:
        return f"{self.tuple_name}.{self.name}"


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _holds(node: Any, key: Any) -> bool:
    """Whether ``node`` is a dict with ``key``, or a NamedTuple with that field
    or class name."""
    if _is_namedtuple(node):
        return key in node._fields or type(node).__name__ == key
    return isinstance(node, dict) and key in node


def _named_leaves(tree: Any, stop: Callable[[Any], bool]) -> list[tuple[KeyPath, Any]]:
    """``(path, leaf)`` as ``tree_leaves_with_path``, not descending into nodes
    where ``stop`` holds, and with a NamedTupleKey for each NamedTuple field."""
    out: list[tuple[KeyPath, Any]] = []
    flat = jax.tree_util.tree_flatten_with_path(
        tree, is_leaf=lambda x: stop(x) or _is_namedtuple(x)
    )[0]
    for path, node in flat:
        if stop(node) or not _is_namedtuple(node):
            out.append((path, node))
            continue
        name = type(node).__name__
        for field in node._fields:
            key = NamedTupleKey(name, field)
            for sub, leaf in _named_leaves(getattr(node, field), stop):
                out.append(((*path, key, *sub), leaf))
    return out


def _children(path: KeyPath, node: Any) -> list[tuple[KeyPath, Any]]:
    """The entries of a dict or NamedTuple, with their paths."""
    if _is_namedtuple(node):
        name = type(node).__name__
        return [
            ((*path, NamedTupleKey(name, f)), getattr(node, f)) for f in node._fields
        ]
    return [((*path, jax.tree_util.DictKey(k)), v) for k, v in node.items()]


def _entry(path: KeyPath, node: Any, key: Any) -> tuple[KeyPath, Any]:
    """The entry ``key`` of ``node``: the node itself if it is a NamedTuple
    named ``key``, else its field or item."""
    if _is_namedtuple(node):
        name = type(node).__name__
        if name == key:
            return path, node
        return (*path, NamedTupleKey(name, key)), getattr(node, key)
    return (*path, jax.tree_util.DictKey(key)), node[key]


def _find(tree: Any, key: Any) -> list[tuple[KeyPath, Any]]:
    """Every entry named ``key``: first those of the outermost holders, in
    leaf order, then those nested inside each holder (optax's order)."""
    holders = [
        (p, n)
        for p, n in _named_leaves(tree, lambda x: _holds(x, key))
        if _holds(n, key)
    ]
    found = [_entry(p, n, key) for p, n in holders]
    for path, node in holders:
        for child_path, child in _children(path, node):
            found += [((*child_path, *sub), v) for sub, v in _find(child, key)]
    return found


def get_all_with_path(
    tree: Any,
    key: Any,
    filtering: Callable[[KeyPath, Any], bool] | None = None,
) -> list[tuple[KeyPath, Any]]:
    """Every entry called ``key`` in ``tree``, with its path (optax's rule).

    An entry is a dict item with key ``key``, a NamedTuple field named
    ``key``, or a NamedTuple whose class is named ``key``; matches inside a
    match are found too. Paths are tuples of JAX key entries, with a
    :class:`NamedTupleKey` for each NamedTuple field; ``jax.tree_util.keystr``
    prints them. Unlike :func:`get`, ``key`` is one name, not a ``"a/b"`` path.

    Args:
      tree: the tree to search (an optimizer state).
      key: the name to look for.
      filtering: keep only the matches for which ``filtering(path, value)``
        is True.

    Returns:
      A list of ``(path, value)``.

    Example:
      >>> import gradtx, gradtx.tree, jax, jax.numpy as jnp
      >>> state = gradtx.adam(1e-3).init({"w": jnp.zeros(2)})
      >>> [jax.tree_util.keystr(p)
      ...  for p, _ in gradtx.tree.get_all_with_path(state, "count")]
      ['[0]ScaleByAdamState.count']
    """
    found = _find(tree, key)
    if filtering is not None:
        found = [(p, v) for p, v in found if filtering(p, v)]
    return found


_CANNOT_MAP = (
    "map_params finds the params' copies in the state by calling init with "
    "that placeholder, so a transformation whose init reads the params' "
    "structure (flatten, say) cannot be mapped; map the state with jax.tree.map "
    "instead."
)


class _ParamsPlaceholder:
    """Stands for the params when an ``init`` is traced by :func:`map_params`."""


jax.tree_util.register_pytree_node(
    _ParamsPlaceholder, lambda _: ((), None), lambda _, __: _ParamsPlaceholder()
)


def is_params_placeholder(x: Any) -> bool:
    """Whether ``x`` is the stand-in for the params that :func:`map_params`
    gives to an ``init`` (a mask, which needs the params' structure, then
    keeps it whole: see ``resolve_mask``)."""
    return isinstance(x, _ParamsPlaceholder)


@runtime_checkable
class Initable(Protocol):
    """Anything with an ``init(params) -> state`` method (a transformation)."""

    def init(self, params: Any) -> Any:
        """The initial state for ``params``."""


def map_params(
    initable: Callable[[Any], Any] | Initable,
    f: Callable[..., Any],
    state: Any,
    /,
    *rest: Any,
    transform_non_params: Callable[..., Any] | None = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Maps ``f`` over every copy of the params tree inside an optimizer state.

    Finds the params-shaped parts of ``state`` (moments such as ``mu`` and
    ``nu``) by calling ``initable``'s init with a placeholder for the params,
    and maps ``f`` over their leaves, with the matching leaves of ``rest``
    (trees like the params) as extra arguments: e.g. to give each moment its
    parameter's sharding. Other entries (counters) pass through, or through
    ``transform_non_params``.

    Args:
      initable: a transformation, or its ``init`` function.
      f: ``f(state_leaf, *rest_leaves)``.
      state: the state to map over, made by ``initable``'s init.
      *rest: trees with the structure of the params.
      transform_non_params: applied to each other leaf of the state.
      is_leaf: passed to ``jax.tree.map`` over the params-shaped parts (e.g.
        to treat :class:`MaskedNode` as a leaf).

    Returns:
      A tree like ``state``.

    Raises:
      ValueError: ``initable``'s init cannot run on a placeholder for the
        params, or gives a state of another structure (its init reads their
        structure, as ``flatten``'s does).
        ``masked`` (and so ``partition``, ``freeze``...) can be mapped, with a
        mask tree or a mask function, as in optax: its masked-out leaves are
        ``MaskedNode()`` in the params-shaped parts (pass
        ``is_leaf=lambda v: isinstance(v, MaskedNode)`` to see them).

    Example:
      >>> import gradtx, gradtx.tree, jax.numpy as jnp
      >>> tx = gradtx.adam(1e-3)
      >>> state = tx.init({"w": jnp.zeros(2)})
      >>> specs = gradtx.tree.map_params(tx, lambda _, spec: spec, state,
      ...                                {"w": "model"},
      ...                                transform_non_params=lambda _: None)
      >>> specs[0].mu, specs[0].count
      ({'w': 'model'}, None)
    """
    init = initable.init if isinstance(initable, Initable) else initable
    try:
        with_placeholders = init(_ParamsPlaceholder())
    except (TypeError, ValueError) as e:
        raise validate.error(
            ValueError,
            "map_params",
            "initable's init failed on the placeholder that stands for the params "
            f"({type(e).__name__}: {e}). {_CANNOT_MAP}",
        ) from e
    marked = jax.tree.structure(
        with_placeholders, is_leaf=lambda v: isinstance(v, _ParamsPlaceholder)
    )
    try:
        marked.flatten_up_to(state)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as e:
        raise validate.error(
            ValueError,
            "map_params",
            "state does not have the structure that initable's init gives for "
            f"the placeholder that stands for the params. {_CANNOT_MAP} (Or "
            "state is not a state of this initable.)",
        ) from e

    def visit(marker: Any, value: Any) -> Any:
        if isinstance(marker, _ParamsPlaceholder):
            return jax.tree.map(f, value, *rest, is_leaf=is_leaf)
        if transform_non_params is not None:
            return transform_non_params(value)
        return value

    return jax.tree.map(
        visit,
        with_placeholders,
        state,
        is_leaf=lambda v: isinstance(v, _ParamsPlaceholder),
    )
