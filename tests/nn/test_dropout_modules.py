"""gradtx.nn.Dropout, SpatialDropout, DropPath: Flax NNX behaviour."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import gradtx.nn


class Block(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.linear = nnx.Linear(4, 4, rngs=rngs)
        self.drop = gradtx.nn.Dropout(0.5, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.drop(self.linear(x))


X = jnp.linspace(-1.0, 1.0, 64, dtype=jnp.float32).reshape(16, 4)


@pytest.mark.parametrize("broadcast_dims", [(), (0,), (-1,), (1, -2)])
def test_matches_flax_dropout_for_the_same_rngs(broadcast_dims: tuple) -> None:
    ours = gradtx.nn.Dropout(0.3, broadcast_dims=broadcast_dims, rngs=nnx.Rngs(7))
    theirs = nnx.Dropout(0.3, broadcast_dims=broadcast_dims, rngs=nnx.Rngs(7))
    for _ in range(3):  # the streams advance alike
        np.testing.assert_array_equal(ours(X), theirs(X))
    ours.eval()
    theirs.eval()
    np.testing.assert_array_equal(ours(X), X)
    np.testing.assert_array_equal(theirs(X), X)


def test_follows_train_eval_and_view() -> None:
    model = Block(nnx.Rngs(0))
    assert bool(jnp.any(model(X) == 0))
    model.eval()
    np.testing.assert_allclose(model(X), model.linear(X))
    model.train()
    assert model.drop.deterministic is False
    frozen = nnx.view(model, deterministic=True)
    np.testing.assert_allclose(frozen(X), model.linear(X))
    assert model.drop.deterministic is False  # the view did not change it


def test_call_time_overrides() -> None:
    layer = gradtx.nn.Dropout(0.5, deterministic=True)
    np.testing.assert_array_equal(layer(X), X)
    key = jax.random.key(3)
    a = layer(X, deterministic=False, rngs=key)
    b = gradtx.nn.functional.dropout(key, X, 0.5)
    np.testing.assert_array_equal(a, b)


def test_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="rate"):
        gradtx.nn.Dropout(1.5)
    with pytest.raises(ValueError, match="has no rngs"):
        gradtx.nn.Dropout(0.5)(X)
    with pytest.raises(ValueError, match="has no mode"):
        gradtx.nn.Dropout(0.5, deterministic=None, rngs=nnx.Rngs(0))(X)
    with pytest.raises(TypeError, match="rngs is int"):
        gradtx.nn.Dropout(0.5, rngs=3)  # type: ignore[arg-type]
    # rate 1 needs no key: zeros, as in Flax.
    np.testing.assert_array_equal(gradtx.nn.Dropout(1.0)(X), jnp.zeros_like(X))


def test_spatial_dropout_and_drop_path_modules() -> None:
    x = jnp.ones((8, 3, 3, 4))
    y = np.asarray(gradtx.nn.SpatialDropout(0.5, rngs=nnx.Rngs(1))(x))
    assert np.all(y.min(axis=(1, 2)) == y.max(axis=(1, 2)))
    path = gradtx.nn.DropPath(0.5, rngs=nnx.Rngs(2))
    z = np.asarray(path(x)).reshape(8, -1)
    assert np.all(z.min(axis=1) == z.max(axis=1))
    path.eval()
    np.testing.assert_array_equal(path(x), x)


def test_inside_nnx_jit_each_step_draws_a_new_mask() -> None:
    model = Block(nnx.Rngs(0))

    @nnx.jit
    def forward(model: Block, x: jax.Array) -> jax.Array:
        return model(x)

    first, second = forward(model, X), forward(model, X)
    assert bool(jnp.any((first == 0) != (second == 0)))


def test_nn_all_lists_every_public_name_with_documented_examples() -> None:
    import inspect
    import types

    for module in (gradtx.nn, gradtx.nn.functional):
        public = {
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and not isinstance(v, types.ModuleType)
            and getattr(v, "__module__", "").startswith("gradtx.nn")
        }
        public |= {"functional"} if module is gradtx.nn else set()
        assert set(module.__all__) == public, module.__name__
        assert list(module.__all__) == sorted(module.__all__)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert ">>>" in (inspect.getdoc(obj) or ""), name


def test_axes_out_of_range_raise_naming_the_module_in_both_modes() -> None:
    # broadcast_dims=(5,) on a 2-D input used to wrap to axis 1 (Flax raises
    # IndexError); SpatialDropout's channel_axis=4 to the batch axis 0.
    layer = gradtx.nn.Dropout(0.5, broadcast_dims=(5,), rngs=nnx.Rngs(0))
    match = r"Dropout: broadcast_dims=\(5,\) names axis 5, .*shape \(16, 4\)"
    with pytest.raises(ValueError, match=match):
        layer(X)
    layer.eval()
    with pytest.raises(ValueError, match=match):
        layer(X)
    spatial = gradtx.nn.SpatialDropout(0.5, channel_axis=4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"SpatialDropout: channel_axis=4 names"):
        spatial(jnp.ones((2, 3, 3, 4)))
    with pytest.raises(TypeError, match=r"Dropout: broadcast_dims must be a seq"):
        gradtx.nn.Dropout(0.5, broadcast_dims=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SpatialDropout: channel_axis takes int"):
        gradtx.nn.SpatialDropout(0.5, channel_axis=-1.0)  # type: ignore[arg-type]
