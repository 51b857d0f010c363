"""monitor, apply_if_norm_below, clip_by_block_rms, adaptive_grad_clip."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

RNG = np.random.default_rng(0)
PARAMS = {
    "dense": jnp.asarray(RNG.normal(size=(4, 3)), jnp.float32),
    "conv": jnp.asarray(RNG.normal(size=(3, 3, 2, 5)), jnp.float32),
    "bias": jnp.zeros(3, jnp.float32),
}
GRADS = jax.tree.map(
    lambda p: jnp.asarray(RNG.normal(size=p.shape) * 3, p.dtype), PARAMS
)


def _norm(tree: dict) -> float:
    return float(
        np.sqrt(sum(np.sum(np.asarray(x, np.float64) ** 2) for x in tree.values()))
    )


def test_monitor_records_norms_around_its_inner_transformation() -> None:
    tx = gradtx.named_chain(
        ("raw", gradtx.monitor()),
        ("clip", gradtx.monitor(gradtx.clip_by_global_norm(1.0))),
        ("sgd", gradtx.sgd(0.1)),
    )
    _, state = jax.jit(tx.update)(GRADS, tx.init(PARAMS), PARAMS)
    g, p = _norm(GRADS), _norm(PARAMS)
    assert float(gradtx.tree_get(state, "raw/updates_norm_in")) == pytest.approx(g)
    assert float(gradtx.tree_get(state, "raw/updates_norm_out")) == pytest.approx(g)
    assert float(gradtx.tree_get(state, "clip/updates_norm_in")) == pytest.approx(g)
    assert float(gradtx.tree_get(state, "clip/updates_norm_out")) == pytest.approx(1.0)
    assert float(gradtx.tree_get(state, "clip/params_norm")) == pytest.approx(p)
    ratio = float(gradtx.tree_get(state, "clip/update_param_ratio"))
    assert ratio == pytest.approx(1.0 / p)


def test_monitor_needs_params() -> None:
    tx = gradtx.monitor()
    with pytest.raises(ValueError, match="pass params"):
        tx.update(GRADS, tx.init(PARAMS))


def test_apply_if_norm_below_drops_large_steps_and_keeps_state() -> None:
    tx = gradtx.apply_if_norm_below(gradtx.adam(0.1), max_norm=_norm(GRADS) * 0.5)
    state = tx.init(PARAMS)
    small = jax.tree.map(lambda g: g * 0.1, GRADS)
    _u1, s1 = tx.update(small, state, PARAMS)
    u2, s2 = tx.update(GRADS, s1, PARAMS)  # too large: skipped
    assert int(s2.total_skipped) == 1
    assert float(s2.last_norm) == pytest.approx(_norm(GRADS), rel=1e-6)
    assert all(not np.any(np.asarray(x)) for x in jax.tree.leaves(u2))
    kept, before = jax.tree.leaves(s2.inner_state), jax.tree.leaves(s1.inner_state)
    for a, b in zip(kept, before, strict=True):
        np.testing.assert_array_equal(a, b)
    nan = jax.tree.map(lambda g: g * jnp.nan, small)
    _, s3 = tx.update(nan, s2, PARAMS)  # a NaN norm is not below the limit
    assert int(s3.total_skipped) == 2


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
