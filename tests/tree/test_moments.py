"""Moment updates and bias correction against optax.tree, and where gradtx is
more exact: half-precision moments computed in float32 and rounded once,
checked against a float64 NumPy reference; moments keep their dtype."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx.tree as gt
from tests.tree import trees
from tests.tree.trees import BF16, C64, F32, F64, I32

FLOATS = (F32, F32, F64, C64, F32, F32)  # moments are floating (complex64 too)
REALS = (F32, F32, F64, F32, F32, F32)  # real moments of FLOATS updates
U, M = trees.tree(20, FLOATS), trees.tree(21, FLOATS)
V = trees.positive(trees.tree(22, REALS))
NONE_UPDATES = ({"a": None, "b": U["step"]}, {"a": M["step"], "b": M["step"]})

CASES: trees.Cases = {
    "moment_1": (lambda m, u, t: m.update_moment(u, t, 0.9, 1), (U, M)),
    "moment_2": (lambda m, u, t: m.update_moment(u, t, 0.999, 2), (U, M)),
    "moment_none": (lambda m, u, t: m.update_moment(u, t, 0.9, 1), NONE_UPDATES),
    "moment_array_decay": (
        lambda m, u, t, d: m.update_moment(u, t, d, 1),
        (U, M, jnp.asarray(0.9, F32)),
    ),
    "elem_norm_1": (
        lambda m, u, v: m.update_moment_per_elem_norm(u, v, 0.9, 1),
        (U, V),
    ),
    "elem_norm_2": (
        lambda m, u, v: m.update_moment_per_elem_norm(u, v, 0.999, 2),
        (U, V),
    ),
    "elem_norm_3": (
        lambda m, u, v: m.update_moment_per_elem_norm(u, v, 0.5, 3),
        (U, V),
    ),
    "elem_norm_none": (
        lambda m, u, t: m.update_moment_per_elem_norm(u, t, 0.9, 2),
        NONE_UPDATES,
    ),
    "infinity": (lambda m, u, v: m.update_infinity_moment(u, v, 0.9, 1e-8), (U, V)),
    "infinity_none": (
        lambda m, u, t: m.update_infinity_moment(u, t, 0.9, 0.0),
        NONE_UPDATES,
    ),
    "bias_correction": (
        lambda m, t, n: m.bias_correction(t, 0.9, n),
        (M, jnp.array(3)),
    ),
    "bias_correction_int": (lambda m, t: m.bias_correction(t, 0.999, 10), (M,)),
    "bias_correction_arrays": (
        lambda m, t, d, n: m.bias_correction(t, d, n),
        (V, jnp.asarray(0.99, F32), jnp.asarray(7, I32)),
    ),
}
JITTED = trees.jit_all(CASES)


# Checked eagerly too: one case per function or behaviour.
EAGER = {"bias_correction_int", "elem_norm_3", "moment_none"}


assert CASES.keys() >= EAGER  # no typo in EAGER


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_optax_under_jit_and_eagerly(name: str) -> None:
    fn, args = CASES[name]
    jitted, want = JITTED()[name]  # optax's, under jit
    tol = trees.rtol(*args)
    trees.assert_close(jitted, want, tol)
    if name in EAGER:
        trees.assert_close(fn(gt, *args), want, tol)


_RNG = np.random.default_rng(23)
G = jnp.asarray(_RNG.standard_normal(512), BF16)
T = jnp.asarray(np.abs(_RNG.standard_normal(512)), BF16)
G64, T64 = np.asarray(G, np.float64), np.asarray(T, np.float64)
HALF: trees.Cases = {  # with the float64 references below
    "moment": (lambda m, g, t: m.update_moment(g, t, 0.999, 2), (G, T)),
    "elem_norm": (lambda m, g, t: m.update_moment_per_elem_norm(g, t, 0.9, 1), (G, T)),
    "bias_correction": (lambda m, t: m.bias_correction(t, 0.9, 3), (T,)),
}
EXACT = {
    "moment": 0.001 * G64**2 + 0.999 * T64,
    "elem_norm": 0.1 * G64 + 0.9 * T64,
    "bias_correction": T64 / (1 - 0.9**3),
}
JITTED_HALF = trees.jit_all(HALF)


@pytest.mark.parametrize("name", sorted(HALF))
def test_half_precision_moments_are_rounded_once(name: str) -> None:
    ours, theirs = JITTED_HALF()[name]
    exact = EXACT[name]
    assert ours.dtype == BF16
    err = np.abs(np.asarray(ours, np.float64) - exact)
    optax_err = np.abs(np.asarray(theirs, np.float64) - exact)
    ulp = np.spacing(np.abs(exact).astype(np.float32)) * 2.0**16  # bfloat16's
    assert np.all(err <= ulp)  # correctly rounded, up to a double rounding
    assert np.all(err <= optax_err + 1e-12) and err.sum() < optax_err.sum()


def test_moments_keep_their_dtype() -> None:
    g = {"w": jnp.ones(3, F32)}
    for ours, theirs, args in (
        (gt.update_moment, optax.tree.update_moment, (0.9, 1)),
        (gt.update_infinity_moment, optax.tree.update_infinity_moment, (0.9, 0.0)),
    ):
        t = {"w": jnp.zeros(3, BF16)}
        assert ours(g, t, *args)["w"].dtype == BF16  # optax's drifts to float32
        assert theirs(g, t, *args)["w"].dtype == F32
    nu = gt.update_moment_per_elem_norm(
        {"z": jnp.ones(2, C64)}, {"z": jnp.ones(2)}, 0.9, 2
    )
    assert nu["z"].dtype == jnp.float64  # a real moment of complex updates stays real


def test_moments_refuse_silent_loss() -> None:
    z = {"w": {"z": jnp.ones(2, C64)}}
    with pytest.raises(
        TypeError, match=r"update_moment: moments\['w'\]\['z'\] is float32 but the "
    ):
        gt.update_moment(z, {"w": {"z": jnp.ones(2, F32)}}, 0.9, 1)
    with pytest.raises(TypeError, match=r"moments\['n'\] is int32"):
        gt.update_moment({"n": jnp.ones(2)}, {"n": jnp.ones(2, I32)}, 0.9, 1)


def test_moment_updates_under_vmap_and_jit() -> None:
    g = jnp.arange(6.0, dtype=F32).reshape(3, 2)
    t = jnp.ones((3, 2), F32)
    decay = jnp.array([0.1, 0.5, 0.9], F32)

    @jax.jit
    @jax.vmap
    def step(g: jax.Array, t: jax.Array, d: jax.Array) -> Any:
        mu = gt.update_moment({"w": g}, {"w": t}, d, 1)
        return gt.bias_correction(mu, d, jnp.array(2))

    want = ((1 - decay[:, None]) * g + decay[:, None] * t) / (1 - decay[:, None] ** 2)
    np.testing.assert_allclose(step(g, t, decay)["w"], want, rtol=1e-6)
