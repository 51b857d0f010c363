"""Clipping: properties that hold for every input (checked with hypothesis),
block RMS and AGC against numpy, and edge cases where a naive implementation
returns NaN or inf."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtx
from tests.sample_trees import LAYER_GRADS as GRADS
from tests.sample_trees import LAYER_PARAMS as PARAMS

# XLA on CPU flushes subnormals to zero, in gradtx and any other JAX code alike.
_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False, width=32)
_arrays = hnp.arrays(
    np.float32, hnp.array_shapes(max_dims=2, max_side=5), elements=_floats
)

_clip_norm = jax.jit(
    lambda g, c: gradtx.clip_by_global_norm(c).update(g, gradtx.EmptyState())[0]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_arrays, min_size=1, max_size=3), st.floats(1e-3, 1e3))
def test_clip_by_global_norm_bounds_the_norm_and_keeps_the_direction(
    leaves: list[np.ndarray], max_norm: float
) -> None:
    tree = {str(i): jnp.asarray(x) for i, x in enumerate(leaves)}
    out = _clip_norm(tree, max_norm)
    flat_in = np.concatenate([np.ravel(x).astype(np.float64) for x in leaves])
    flat_out = np.concatenate([np.ravel(out[str(i)]) for i in range(len(leaves))])
    norm_in = np.linalg.norm(flat_in)
    # Reference: NumPy in float64, from the definition min(1, c / |g|) * g.
    expected = flat_in * min(1.0, max_norm / norm_in) if norm_in > 0 else flat_in
    np.testing.assert_allclose(
        flat_out, expected, rtol=1e-5, atol=1e-6 * max(norm_in, 1)
    )
    assert np.linalg.norm(flat_out) <= max_norm * (1 + 1e-5) or norm_in <= max_norm


@settings(max_examples=60, deadline=None)
@given(_arrays, st.floats(1e-3, 1e3))
def test_clip_is_elementwise_clamping(x: np.ndarray, delta: float) -> None:
    tx = gradtx.clip(delta)
    out, _ = tx.update(jnp.asarray(x), gradtx.EmptyState())
    np.testing.assert_allclose(
        out, np.clip(x, np.float32(-delta), np.float32(delta)), rtol=1e-6
    )


@settings(max_examples=40, deadline=None)
@given(_arrays, st.floats(1e-2, 1e2))
def test_updates_within_the_norm_pass_bit_for_bit(
    x: np.ndarray, max_norm: float
) -> None:
    max_norm = float(np.float32(max_norm))
    # A factor like c * rsqrt(c^2) is 1 +- 1 ulp for most c; it must be exactly 1.
    norm = float(np.linalg.norm(x.astype(np.float64)))
    scaled = x if norm < max_norm else (x * (0.5 * max_norm / norm)).astype(np.float32)
    tiny = np.finfo(np.float32).tiny  # XLA flushes subnormals, as said above
    scaled = np.where(np.abs(scaled) < tiny, np.float32(0), scaled)
    out = _clip_norm({"0": jnp.asarray(scaled)}, max_norm)["0"]
    np.testing.assert_array_equal(out, scaled)


def _entry_ops(fn: object, tree: dict[str, jax.Array]) -> list[str]:
    """The kernels of the compiled entry computation: not parameters or bitcasts."""
    text = jax.jit(fn).lower(tree).compile().as_text()
    entry = text[text.index("ENTRY") :].splitlines()[1:]
    return [
        line
        for line in entry
        if "=" in line and not any(op in line for op in (" parameter(", " bitcast("))
    ]


def test_global_norm_of_small_leaves_compiles_to_a_fixed_number_of_kernels() -> None:
    # Compile time grows with the kernels XLA must plan: the norm of many small
    # leaves must not cost one reduction per leaf (nor one scalar add each,
    # which XLA fuses into one ever-growing kernel, quadratic to compile).
    def tree(n: int) -> dict[str, jax.Array]:
        small = {f"s{i:03d}": jnp.full((3, 4), 0.5, jnp.float32) for i in range(n)}
        return {**small, "big": jnp.ones((100, 100), jnp.float32)}

    few, many = (
        _entry_ops(gradtx.global_norm, tree(10)),
        _entry_ops(gradtx.global_norm, tree(60)),
    )
    assert len(many) == len(few), many
    # The value: sqrt(n * 12 * 0.25 + 10_000), computed by hand.
    np.testing.assert_allclose(
        gradtx.global_norm(tree(60)), np.sqrt(60 * 12 * 0.25 + 10_000), rtol=1e-6
    )


def test_clip_by_block_rms_matches_numpy() -> None:
    out, _ = gradtx.clip_by_block_rms(0.5).update(GRADS, gradtx.EmptyState())
    for k, g in GRADS.items():
        g = np.asarray(g, np.float64)
        expected = g / max(1.0, np.sqrt(np.mean(g**2)) / 0.5)
        np.testing.assert_allclose(out[k], expected, rtol=1e-6)


def _unit_norms(x: np.ndarray) -> np.ndarray:
    """Per output unit: over all axes but the last (2-D and 4-D), else whole."""
    if x.ndim <= 1:
        return np.full(x.shape, np.sqrt(np.sum(x**2)))
    axes = tuple(range(x.ndim - 1))
    return np.broadcast_to(np.sqrt(np.sum(x**2, axis=axes, keepdims=True)), x.shape)


def test_adaptive_grad_clip_matches_the_paper_rule_in_numpy() -> None:
    lam, eps = 0.2, 1e-3
    out, _ = gradtx.adaptive_grad_clip(lam, eps).update(
        GRADS, gradtx.EmptyState(), PARAMS
    )
    for k in PARAMS:
        g, w = np.asarray(GRADS[k], np.float64), np.asarray(PARAMS[k], np.float64)
        gn, wn = _unit_norms(g), np.maximum(_unit_norms(w), eps)
        expected = np.where(gn / wn > lam, lam * wn / gn * g, g)
        np.testing.assert_allclose(out[k], expected, rtol=1e-5, atol=1e-7, err_msg=k)
    # Zero-initialized biases (|W| = 0) are held to lam * eps, not frozen.
    assert float(jnp.linalg.norm(out["bias"])) == pytest.approx(lam * eps, rel=1e-5)


def test_adaptive_grad_clip_needs_params_and_checks_arguments() -> None:
    tx = gradtx.adaptive_grad_clip(0.1)
    with pytest.raises(ValueError, match="pass params"):
        tx.update(GRADS, tx.init(PARAMS))
    with pytest.raises(ValueError, match="clipping"):
        gradtx.adaptive_grad_clip(0.0)
    with pytest.raises(ValueError, match="up to 5 dimensions"):
        gradtx.unitwise_norm(jnp.ones((1, 2, 1, 2, 1, 2)))


@pytest.mark.parametrize("axis", [1, (0, 2), -1])
def test_adaptive_grad_clip_axis_is_optax_s_and_the_numpy_rule(axis: object) -> None:
    """``axis`` names one unit's axes for every leaf, as ``optax``'s does,
    also for a rank-6 leaf that the default convention refuses."""
    import optax

    rng = np.random.default_rng(3)
    params = {"w": rng.normal(size=(2, 3, 4)), "big": rng.normal(size=(2,) * 6)}
    grads = {k: 3.0 * rng.normal(size=v.shape) for k, v in params.items()}
    lam, eps = 0.1, 1e-3
    if axis == (0, 2):
        params, grads = {"w": params["w"]}, {"w": grads["w"]}
    p32, g32 = (
        {k: jnp.asarray(v, jnp.float32) for k, v in t.items()} for t in (params, grads)
    )
    ours, _ = gradtx.adaptive_grad_clip(lam, eps, axis=axis).update(g32, None, p32)
    theirs, _ = optax.adaptive_grad_clip(lam, eps, axis=axis).update(g32, None, p32)
    for k in params:
        g, w = grads[k], params[k]
        gn = np.sqrt(np.sum(g**2, axis=axis, keepdims=True))
        wn = np.maximum(np.sqrt(np.sum(w**2, axis=axis, keepdims=True)), eps)
        expected = np.where(gn / wn > lam, lam * wn / gn * g, g)
        np.testing.assert_allclose(ours[k], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6, atol=1e-6)


def test_adaptive_grad_clip_refuses_an_axis_the_leaf_lacks() -> None:
    with pytest.raises(TypeError, match="adaptive_grad_clip: axis"):
        gradtx.adaptive_grad_clip(0.1, axis=1.5)
    tx = gradtx.adaptive_grad_clip(0.1, axis=2)
    w = {"w": jnp.ones((2, 3))}
    with pytest.raises(ValueError, match=r"axis 2 is not an axis .* shape \(2, 3\)"):
        tx.update(w, tx.init(w), w)


def test_global_norm_of_float16_gradients_does_not_overflow() -> None:
    g = {"a": jnp.full(4, 300.0, jnp.float16)}  # 300^2 = 9e4 > float16 max
    np.testing.assert_allclose(float(gradtx.global_norm(g)), 600.0, rtol=1e-3)
    u, _ = gradtx.clip_by_global_norm(1.0).update(g, gradtx.EmptyState())
    np.testing.assert_allclose(np.asarray(u["a"], np.float32), 0.5, rtol=1e-3)


def test_meta_gradient_through_clipping_is_finite_at_zero_gradient() -> None:
    tx = gradtx.clip_by_global_norm(1.0)

    def f(scale: jax.Array) -> jax.Array:
        u, _ = tx.update({"a": scale * jnp.zeros(3)}, gradtx.EmptyState())
        return jnp.sum(u["a"])

    # d/ds of clip(s * 0) is 0: the clip factor is 1 and s * 0 does not move.
    assert float(jax.grad(f)(jnp.float32(1.0))) == 0.0
