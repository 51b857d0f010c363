"""sam and normalize: optax.contrib's, where gradtx differs, and the errors.

SAM against Foret et al.'s Algorithm 1 is in
``tests/optimizers/test_wrappers.py``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

F32 = jnp.float32


def _params() -> dict[str, jax.Array]:
    rng = np.random.default_rng(0)
    return {
        "w": jnp.asarray(rng.normal(size=(3, 2)), F32),
        "b": jnp.asarray(rng.normal(size=(2,)), F32),
    }


def _loss(p: dict, i: Any = 0) -> jax.Array:
    return sum(jnp.sum(jnp.sin(x) ** 2 + 0.1 * x) for x in jax.tree.leaves(p))


def _run(tx: Any, apply: Any, steps: int = 12, **extra: Any) -> dict:
    """``steps`` calls with the loss's gradient, in one jitted scan."""

    @jax.jit
    def run(params: dict) -> dict:
        def body(carry: Any, _: None) -> tuple[Any, None]:
            p, s = carry
            u, s = tx.update(jax.grad(_loss)(p), s, p, **extra)
            return (apply(p, u), s), None

        (p, _), _ = jax.lax.scan(body, (params, tx.init(params)), length=steps)
        return p

    return run(_params())


@pytest.mark.parametrize(
    ("sync_period", "reset_state", "opaque_mode"),
    [(3, False, False), (3, True, True)],
    ids=["transparent-no_reset", "opaque"],
)
def test_matches_optax(sync_period: int, reset_state: bool, opaque_mode: bool) -> None:
    """Two adversarial Adam steps per outer step (sync_period=2 with reset is
    the NumPy reference's case in tests/optimizers/test_wrappers.py)."""
    extra = {"grad_fn": jax.grad(_loss)} if opaque_mode else {}

    def build(lib: Any, normalize: Any) -> Any:
        adv = lib.chain(normalize(), lib.adam(0.05))
        return (lib.sam if lib is gradtx else optax.contrib.sam)(
            lib.adam(0.05),
            adv,
            sync_period=sync_period,
            reset_state=reset_state,
            opaque_mode=opaque_mode,
        )

    ours = _run(build(gradtx, gradtx.normalize), gradtx.apply_updates, **extra)
    theirs = _run(build(optax, optax.contrib.normalize), optax.apply_updates, **extra)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-6, err_msg=k)
    assert max(float(jnp.max(jnp.abs(ours[k] - _params()[k]))) for k in ours) > 0.1


def test_sync_period_one_is_the_outer_optimizer() -> None:
    """optax's steps from the previous call's params instead."""
    adv = gradtx.chain(gradtx.normalize(), gradtx.sgd(0.05))
    ours = _run(gradtx.sam(gradtx.adam(0.05), adv, sync_period=1), gradtx.apply_updates)
    plain = _run(gradtx.adam(0.05), gradtx.apply_updates)
    for k in ours:
        np.testing.assert_allclose(ours[k], plain[k], rtol=1e-6, atol=1e-7)


def test_normalize_keeps_a_zero_gradient_zero() -> None:
    """optax's divides 0 by 0 (the catalogue checks the rest against it)."""
    tx = gradtx.normalize()
    g = {"a": jnp.zeros(2, F32), "b": jnp.zeros((), F32)}
    zero, _ = tx.update(g, tx.init(g))
    assert all(bool(jnp.all(x == 0)) for x in jax.tree.leaves(zero))


def test_update_errors_say_what_is_missing() -> None:
    adv = gradtx.chain(gradtx.normalize(), gradtx.sgd(0.05))
    params = _params()
    tx = gradtx.sam(gradtx.sgd(0.1), adv)
    with pytest.raises(ValueError, match="sam: params is None, but sam perturbs"):
        tx.update(params, tx.init(params))
    opaque = gradtx.sam(gradtx.sgd(0.1), adv, opaque_mode=True)
    with pytest.raises(ValueError, match="sam: opaque_mode=True needs grad_fn"):
        opaque.update(params, opaque.init(params), params)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sync_period": 0}, ValueError, "sam: sync_period is 0; expected an int >= 1"),
        ({"opaque_mode": 1}, TypeError, "sam: opaque_mode must be True or False"),
        ({"batch_axis_name": 3}, TypeError, "sam: batch_axis_name must be None"),
        ({"adv_optimizer": None}, TypeError, "sam's adv_optimizer is None"),
    ],
    ids=["sync_period", "opaque_mode", "batch_axis_name", "adv_optimizer"],
)
def test_bad_arguments(kwargs: dict, error: type[Exception], message: str) -> None:
    args = {
        "optimizer": gradtx.sgd(0.1),
        "adv_optimizer": gradtx.chain(gradtx.normalize(), gradtx.sgd(0.05)),
    }
    with pytest.raises(error, match=message):
        gradtx.sam(**{**args, **kwargs})
