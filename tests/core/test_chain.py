"""chain and named_chain; optax and flax interop."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import gradtx
from tests.sample_trees import F32
from tests.sample_trees import small_grads as _grads
from tests.sample_trees import small_params as _params


def test_chain_applies_in_order_and_matches_manual_composition() -> None:
    a, b = gradtx.clip_by_global_norm(0.5), gradtx.scale_by_adam()
    tx = gradtx.chain(a, b)
    p = _params()
    state = tx.init(p)
    sa, sb = a.init(p), b.init(p)
    for i in range(3):
        u, state = tx.update(_grads(i), state, p)
        ua, sa = a.update(_grads(i), sa, p)
        ub, sb = b.update(ua, sb, p)
        for x, y in zip(jax.tree.leaves(u), jax.tree.leaves(ub), strict=True):
            np.testing.assert_array_equal(x, y)
    assert isinstance(state, tuple) and len(state) == 2


def test_named_chain_state_is_addressable_and_equals_chain() -> None:
    tx = gradtx.named_chain(
        ("clip", gradtx.clip_by_global_norm(0.5)), ("adam", gradtx.adam(0.1))
    )
    ref = gradtx.chain(gradtx.clip_by_global_norm(0.5), gradtx.adam(0.1))
    p = _params()
    s, r = tx.init(p), ref.init(p)
    u, s = tx.update(_grads(0), s, p)
    v, r = ref.update(_grads(0), r, p)
    for x, y in zip(jax.tree.leaves(u), jax.tree.leaves(v), strict=True):
        np.testing.assert_array_equal(x, y)
    assert int(s["adam"][0].count) == 1
    assert set(s) == {"clip", "adam"}


def test_extra_args_reach_transforms_that_take_them() -> None:
    seen = {}

    def update(updates, state, params=None, **extra):
        seen.update(extra)
        return updates, state

    spy = gradtx.GradientTransformation(lambda p: gradtx.EmptyState(), update)
    # optax's plain transformations take no extra args: chain must not pass them.
    tx = gradtx.chain(optax.scale(1.0), spy, gradtx.adam(0.1))
    p = _params()
    tx.update(_grads(0), tx.init(p), p, loss=jnp.float32(3.0))
    assert float(seen["loss"]) == 3.0


def test_gradtx_inside_optax_chain_and_optax_inside_gradtx_chain() -> None:
    p = _params()
    mixed_a = optax.chain(gradtx.clip_by_global_norm(1.0), optax.adam(0.1))
    mixed_b = gradtx.chain(optax.clip_by_global_norm(1.0), gradtx.adam(0.1))
    pure = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(0.1))
    states = [t.init(p) for t in (mixed_a, mixed_b, pure)]
    params = [p, p, p]
    for i in range(20):
        for j, t in enumerate((mixed_a, mixed_b, pure)):
            u, states[j] = jax.jit(t.update)(_grads(i), states[j], params[j])
            params[j] = optax.apply_updates(params[j], u)
    for k in p:
        np.testing.assert_allclose(params[0][k], params[2][k], atol=1e-6)
        np.testing.assert_allclose(params[1][k], params[2][k], atol=1e-6)


def test_flax_nnx_optimizer_with_a_gradtx_tx() -> None:
    from flax import nnx

    def train(tx: optax.GradientTransformation) -> jax.Array:
        model = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
        opt = nnx.Optimizer(model, tx, wrt=nnx.Param)
        x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 3)), F32)
        y = jnp.ones((8, 2), F32)

        @nnx.jit
        def step(model: nnx.Linear, opt: nnx.Optimizer) -> jax.Array:
            loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
            opt.update(model, grads)
            return loss

        losses = [step(model, opt) for _ in range(30)]
        return jnp.stack(losses)

    ours = train(gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(0.05)))
    theirs = train(optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(0.05)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert float(ours[-1]) < 0.2 * float(ours[0])


def test_flax_nnx_optimizer_with_named_chain_and_a_mask_function() -> None:
    from flax import nnx

    model = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    model.bias[...] = jnp.ones(2, F32)
    kernel0 = model.kernel[...]
    matrices = lambda p: jax.tree.map(lambda x: x.ndim > 1, p)  # noqa: E731
    tx = gradtx.named_chain(
        ("decay", gradtx.add_decayed_weights(0.5, mask=matrices)),
        ("sgd", gradtx.sgd(gradtx.constant_schedule(1.0))),
    )
    opt = nnx.Optimizer(model, tx, wrt=nnx.Param)
    zeros = jax.tree.map(jnp.zeros_like, nnx.state(model, nnx.Param))
    opt.update(model, zeros)
    # Zero gradients: only the decay moves params, theta - 1.0 * 0.5 * theta,
    # and only where the mask (on nnx.State paths) selects: the kernel.
    np.testing.assert_allclose(model.kernel[...], 0.5 * kernel0, rtol=1e-6)
    np.testing.assert_allclose(model.bias[...], 1.0)
    assert int(gradtx.tree_get(nnx.as_pure(opt.opt_state), "sgd/count")) == 1


def test_chains_are_extra_args_transformations_as_in_optax() -> None:
    """optax's chain and named_chain return GradientTransformationExtraArgs,
    even over plain transformations; so do gradtx's (and the aliases built on
    them), so ``isinstance`` checks agree."""
    plain = gradtx.GradientTransformation(
        lambda p: {},
        lambda u, s, p=None: (u, s),  # type: ignore[arg-type]  # no **extra_args
    )
    oplain = optax.GradientTransformation(lambda p: {}, lambda u, s, p=None: (u, s))
    pairs = [
        (gradtx.chain(plain, plain), optax.chain(oplain, oplain)),
        (gradtx.named_chain(("a", plain)), optax.named_chain(("a", oplain))),
        (gradtx.adam(1e-3), optax.adam(1e-3)),
    ]
    for ours, theirs in pairs:
        assert isinstance(theirs, optax.GradientTransformationExtraArgs)
        assert isinstance(ours, gradtx.GradientTransformationExtraArgs)
        assert gradtx.with_extra_args_support(ours) is ours
    tx = gradtx.chain(plain, plain)
    u, _ = tx.update(jnp.ones(2), tx.init(jnp.zeros(2)), loss=1.0)  # dropped
    np.testing.assert_array_equal(u, jnp.ones(2))
