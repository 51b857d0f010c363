"""L2 regularization both ways, and decoupled weight decay (AdamW)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import gradtx

F32 = jnp.float32
PARAMS = {
    "dense": {"kernel": jnp.ones((3, 2), F32), "bias": jnp.ones(2, F32)},
    "norm": {"scale": jnp.ones(2, F32)},
}

F64 = jnp.float64
WD = 0.1


def _problem() -> tuple[dict, jax.Array, jax.Array]:
    rng = np.random.default_rng(0)
    params = {
        "w": jnp.asarray(rng.normal(size=(4, 2)), F64),
        "b": jnp.asarray(rng.normal(size=2), F64),
    }
    x = jnp.asarray(rng.normal(size=(16, 4)), F64)
    y = jnp.asarray(rng.normal(size=(16, 2)), F64)
    return params, x, y


def _loss(params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((x @ params["w"] + params["b"][None, :] - y) ** 2)


def _train(tx: gradtx.GradientTransformation, loss, steps: int = 40) -> dict:
    params, x, y = _problem()
    state = tx.init(params)
    for _ in range(steps):
        g = jax.grad(loss)(params, x, y)
        u, state = tx.update(g, state, params)
        params = gradtx.apply_updates(params, u)
    return params


def test_coupled_l2_equals_sgd_on_the_penalized_loss() -> None:
    coupled = _train(
        gradtx.chain(gradtx.add_decayed_weights(WD), gradtx.sgd(0.1)), _loss
    )
    penalized = _train(
        gradtx.sgd(0.1), lambda p, x, y: _loss(p, x, y) + WD * gradtx.l2_penalty(p)
    )
    for k in coupled:
        np.testing.assert_allclose(coupled[k], penalized[k], rtol=1e-12, atol=1e-12)


def test_masked_l2_penalty_matches_masked_decay() -> None:
    mask = {"w": True, "b": False}
    coupled = _train(
        gradtx.chain(gradtx.add_decayed_weights(WD, mask), gradtx.sgd(0.1)), _loss
    )
    penalized = _train(
        gradtx.sgd(0.1),
        lambda p, x, y: _loss(p, x, y) + WD * gradtx.l2_penalty(p, mask),
    )
    for k in coupled:
        np.testing.assert_allclose(coupled[k], penalized[k], rtol=1e-12, atol=1e-12)
    # and the penalty itself is the closed form 1/2 ||w||^2
    p, _, _ = _problem()
    np.testing.assert_allclose(
        gradtx.l2_penalty(p, mask), 0.5 * np.sum(np.asarray(p["w"]) ** 2)
    )


def test_adamw_differs_from_adam_with_l2_as_the_paper_says() -> None:
    lr = 0.01
    adamw = _train(gradtx.adamw(lr, weight_decay=WD), _loss, steps=1)
    adam_l2 = _train(
        gradtx.chain(gradtx.add_decayed_weights(WD), gradtx.adam(lr)), _loss, steps=1
    )
    p0, x, y = _problem()
    g = jax.grad(_loss)(p0, x, y)
    for k in p0:
        p, gk = np.asarray(p0[k]), np.asarray(g[k])
        # Loshchilov & Hutter, Alg. 2: the first Adam step is sign(g); the decay is
        # added after the normalization: theta - lr * (sign(g) + wd * theta).
        np.testing.assert_allclose(adamw[k], p - lr * (np.sign(gk) + WD * p), rtol=1e-7)
        # Adam + L2 normalizes the decayed gradient: theta - lr * sign(g + wd * theta).
        np.testing.assert_allclose(adam_l2[k], p - lr * np.sign(gk + WD * p), rtol=1e-7)
    diff = max(float(jnp.max(jnp.abs(adamw[k] - adam_l2[k]))) for k in p0)
    assert diff > 1e-4


def test_adamw_decay_shrinks_every_weight_by_the_same_factor() -> None:
    # With zero gradients, AdamW multiplies every weight by (1 - lr * wd) per step,
    # whatever its scale; Adam + L2 moves each weight by ~lr (sign-like steps).
    params = {"w": jnp.asarray([1e-3, 1.0, 100.0], F64)}
    zero = {"w": jnp.zeros(3, F64)}
    lr, steps = 0.01, 10
    tx = gradtx.adamw(lr, weight_decay=WD)
    state = tx.init(params)
    p = params
    for _ in range(steps):
        u, state = tx.update(zero, state, p)
        p = gradtx.apply_updates(p, u)
    np.testing.assert_allclose(p["w"], params["w"] * (1 - lr * WD) ** steps, rtol=1e-12)


def test_add_decayed_weights_mask_decays_only_selected_leaves() -> None:
    tx = gradtx.add_decayed_weights(
        0.5, mask=lambda p: jax.tree.map(lambda x: x.ndim > 1, p)
    )
    zeros = jax.tree.map(jnp.zeros_like, PARAMS)
    u, _ = tx.update(zeros, tx.init(PARAMS), PARAMS)
    np.testing.assert_allclose(u["dense"]["kernel"], 0.5)
    np.testing.assert_allclose(u["dense"]["bias"], 0.0)
    np.testing.assert_allclose(u["norm"]["scale"], 0.0)
