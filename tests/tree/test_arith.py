"""Element-wise functions, trees of constants and dtypes, against optax.tree.

Every shared function gives optax's result under ``jit`` (exactly: the same
operations) and eagerly, on mixed trees (nested containers, ``None``, scalars, zero-size
leaves; float32, bfloat16, float64, complex64, int32). Then what gradtx adds:
tree conditions for ``where``, errors that name the first differing path, no
silent loss of an imaginary part.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
import gradtx.tree as gt
from tests.tree import trees
from tests.tree.trees import BF16, C64, F32, F64, I32

X, Y, Z = trees.tree(0), trees.tree(1), trees.tree(2)
REAL = trees.tree(3, (F32, BF16, F64, F32, I32, F32))  # clip, real casts: no complex
SCALARS = (1.0, {"k1": 2.0, "k2": (3.0, -4.0)}, 5.0)  # Python floats, as in optax
SCALARS2 = (0.5, {"k1": 1.0, "k2": (-2.0, 2.0)}, 1.0)

CASES: trees.Cases = {
    "add": (lambda m, x, y: m.add(x, y), (X, Y)),
    "add_three": (lambda m, x, y, z: m.add(x, y, z), (X, Y, Z)),
    "add_python_scalars": (lambda m, x, y: m.add(x, y), (SCALARS, SCALARS2)),
    "sub": (lambda m, x, y: m.sub(x, y), (X, Y)),
    "mul": (lambda m, x, y: m.mul(x, y), (X, Y)),
    "div": (lambda m, x, y: m.div(x, y), (X, trees.positive(Y))),
    "scale": (lambda m, x: m.scale(0.5, x), (X,)),
    "scale_by_array": (lambda m, x: m.scale(jnp.asarray(0.5, F64), x), (X,)),
    "add_scale": (lambda m, x, y: m.add_scale(x, 0.5, y), (X, Y)),
    "add_scale_none_leaf": (
        lambda m, x, y: m.add_scale(x, 2.0, y),
        ({"a": None, "b": X["step"]}, {"a": X["step"], "b": Y["step"]}),
    ),
    "clip": (lambda m, x: m.clip(x, -0.5, 0.5), (REAL,)),
    "clip_one_side": (lambda m, x: m.clip(x, max_value=0.0), (REAL,)),
    "where_scalar": (lambda m, c, x, y: m.where(c, x, y), (jnp.array(False), X, Y)),
    "where_python_bool": (lambda m, x, y: m.where(True, x, y), (X, Y)),
    "conj": (lambda m, x: m.conj(x), (X,)),
    "real": (lambda m, x: m.real(x), (X,)),
    "zeros_like": (lambda m, x: m.zeros_like(x), (X,)),
    "zeros_like_dtype": (lambda m, x: m.zeros_like(x, dtype=BF16), (X,)),
    "ones_like": (lambda m, x: m.ones_like(x, C64), (X,)),
    "full_like": (lambda m, x: m.full_like(x, 2.5), (X,)),
    "full_like_dtype": (lambda m, x: m.full_like(x, 3, F32), (X,)),
    "cast": (lambda m, x: m.cast(x, BF16), (REAL,)),
    "cast_to_complex": (lambda m, x: m.cast(x, C64), (X,)),
    "cast_to_int": (lambda m, x: m.cast(x, I32), (REAL,)),
    "cast_none": (lambda m, x: m.cast(x, None), (X,)),
    "cast_like": (
        lambda m, x, o: m.cast_like(x, o),
        (REAL, trees.tree(4, (BF16, F64, I32, C64, F32, BF16))),
    ),
}


JITTED = trees.jit_all(CASES)
# Checked eagerly too: a case for each code path (each eager operation on a new
# shape and dtype compiles a kernel, so not every variant).
EAGER = {
    "add_python_scalars",
    "add_scale_none_leaf",
    "add_three",
    "cast_like",
    "clip",
    "div",
    "full_like_dtype",
    "scale",
    "where_scalar",
}


assert CASES.keys() >= EAGER  # no typo in EAGER


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_optax_under_jit_and_eagerly(name: str) -> None:
    fn, args = CASES[name]
    jitted, want = JITTED()[name]  # optax's, under jit
    trees.assert_close(jitted, want)  # the same operations, exactly
    if name in EAGER:
        trees.assert_close(fn(gt, *args), want, trees.rtol(*args))


def test_where_takes_a_tree_of_conditions_or_a_prefix() -> None:
    x, y = REAL, trees.tree(7, (F32, BF16, F64, F32, I32, F32))
    per_leaf = jax.tree.map(lambda a: a > 0, x)  # one boolean array per leaf
    prefix = {"blocks": True, "dense": {"b": False, "w": True}, "skip": None}
    prefix["step"] = False
    expanded: dict[str, Any] = {"blocks": (True, [True, True])}
    expanded |= {"dense": {"b": False, "w": True}}
    expanded |= {"skip": None, "step": False}
    jitted = jax.jit(lambda c, a, b: [gt.where(c_, a, b) for c_ in c])
    got = jitted([per_leaf, prefix], x, y)
    for full, out in ((per_leaf, got[0]), (expanded, got[1])):
        want = jax.tree.map(lambda c, a, b: np.where(c, a, b), full, x, y)
        trees.assert_close(out, want)
    trees.assert_close(gt.where(prefix, x, y), got[1])  # eagerly too
    assert got[1]["skip"] is None


def test_where_under_vmap_selects_per_example() -> None:
    x, y = jnp.arange(6.0).reshape(3, 2), -jnp.arange(6.0).reshape(3, 2)
    pick = jnp.array([True, False, True])
    out = jax.vmap(lambda c, a, b: gt.where(c, {"v": a}, {"v": b}))(pick, x, y)
    np.testing.assert_array_equal(out["v"], np.where(pick[:, None], x, y))


def test_mismatched_trees_name_the_first_differing_path() -> None:
    other = {**Y, "dense": {"b": Y["dense"]["b"]}}
    with pytest.raises(gradtx.TreeMismatchError) as err:
        gt.add(X, other)
    assert str(err.value).startswith(
        "add: tree_x['dense'] is dict(['b'], ['w']) but tree_y['dense'] is "
        "dict(['b']): tree_y must have the structure of tree_x."
    )
    with pytest.raises(gradtx.TreeMismatchError, match=r"other_trees\[0\]\['step'\]"):
        gt.add(X, Y, {**Z, "step": None})
    with pytest.raises(ValueError, match=r"sub: tree_x\['skip'\] is None but tree_y"):
        gt.sub(X, {**Y, "skip": jnp.ones(1)})
    with pytest.raises(
        gradtx.TreeMismatchError, match=r"where: condition\['dense'\] is"
    ):
        cond = {"dense": {"b": True}, "blocks": True, "skip": None, "step": True}
        gt.where(cond, X, Y)
    with pytest.raises(gradtx.TreeMismatchError, match=r"other_tree\['step'\]"):
        gt.cast_like(X, {**Y, "step": (Y["step"],)})


def test_a_leaf_facing_a_subtree_is_a_mismatch_too() -> None:
    # jax.tree.map would pass the subtree to the function; optax then fails
    # somewhere inside it, or silently skips the leaf (cast_like).
    with pytest.raises(gradtx.TreeMismatchError) as err:
        gt.cast_like({"a": jnp.ones(2, F32)}, {"a": {"inner": 1}})
    assert str(err.value).startswith(
        "cast_like: tree['a'] is float32[2] but other_tree['a'] is dict(['inner'])"
    )
    with pytest.raises(gradtx.TreeMismatchError, match=r"tree_y\['a'\] is tuple\(\)"):
        gt.mul({"a": jnp.ones(2)}, {"a": ()})


def test_casting_complex_to_real_raises_instead_of_dropping_the_imaginary_part() -> (
    None
):
    with pytest.raises(TypeError, match=r"^cast: tree\['dense'\]\['b'\] is complex64"):
        gt.cast(X, F32)
    with pytest.raises(TypeError, match="drop its imaginary part"):
        gt.cast_like({"z": jnp.ones(1, C64)}, {"z": jnp.ones(1, F32)})
    assert gt.cast(gt.real(X), F32)["dense"]["b"].dtype == F32


def test_cast_accepts_python_numbers() -> None:
    assert gt.cast({"a": 1.5}, BF16)["a"].dtype == BF16


DTYPE_TREES = {
    "float32": {"a": jnp.ones(2, F32), "b": (jnp.ones((), F32),)},
    "mixed": X,
    "half": {"a": jnp.ones(2, BF16), "b": jnp.ones(1, jnp.float16)},
    "ints": {"a": jnp.ones(2, I32), "b": jnp.ones(1, jnp.uint32)},
    "scalars": SCALARS,
    "empty_dict": {},
    "empty_none": None,
}


@pytest.mark.parametrize("handler", [None, "promote", "highest", "lowest"])
@pytest.mark.parametrize("name", sorted(DTYPE_TREES))
def test_dtype_matches_optax(name: str, handler: str | None) -> None:
    tree = DTYPE_TREES[name]
    try:
        want = optax.tree.dtype(tree, handler)
    except ValueError:
        with pytest.raises(ValueError, match=r"mixed_dtype_handler|cannot be ordered"):
            gt.dtype(tree, handler)
        return
    assert gt.dtype(tree, handler) == want
    jax.eval_shape(lambda t: assert_dtype(t, handler, want), tree)  # traced too


def assert_dtype(tree: Any, handler: str | None, want: Any) -> None:
    assert gt.dtype(tree, handler) == want


def test_dtype_errors_name_a_leaf_of_each_dtype_and_the_handlers() -> None:
    with pytest.raises(
        ValueError, match=r"tree\['blocks'\]\[1\]\[0\] is bfloat16 but "
    ):
        gt.dtype(X)
    with pytest.raises(ValueError, match="must be one of"):
        gt.dtype(X, "widest")
