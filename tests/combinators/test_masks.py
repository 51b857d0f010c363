"""decay_mask: the weight-decay convention, on dicts and on Flax NNX state."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

import gradtx


def test_decay_mask_on_a_nested_dict() -> None:
    params = {
        "conv": {"kernel": jnp.ones((3, 3, 2, 4)), "bias": jnp.ones(4)},
        "norm": {"scale": jnp.ones(4), "bias": jnp.ones(4)},
        "embed": {"embedding": jnp.ones((10, 4))},
        "layers": [
            {"w": jnp.ones((4, 4))},
            {"w": jnp.ones((4, 4)), "gain": jnp.ones(4)},
        ],
        "temperature": jnp.ones(()),
    }
    expected = {
        "conv": {"kernel": True, "bias": False},
        "norm": {"scale": False, "bias": False},
        "embed": {"embedding": True},
        "layers": [{"w": True}, {"w": True, "gain": False}],
        "temperature": False,
    }
    assert gradtx.decay_mask(params) == expected


def test_decay_mask_names_are_configurable() -> None:
    params = {"bias": jnp.ones((2, 2)), "w": jnp.ones((2, 2)), "v": jnp.ones(3)}
    mask = functools.partial(gradtx.decay_mask, no_decay_names={"w"}, min_ndim=1)
    assert mask(params) == {"bias": True, "w": False, "v": True}


def test_nnx_model_with_adamw_and_decay_mask_decays_only_weights() -> None:
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.conv = nnx.Conv(2, 3, (3, 3), rngs=rngs)
            self.bn = nnx.BatchNorm(3, rngs=rngs)
            self.linear = nnx.Linear(3, 2, rngs=rngs)
            self.ln = nnx.LayerNorm(2, rngs=rngs)

        def __call__(self, x: jax.Array) -> jax.Array:
            x = nnx.relu(self.bn(self.conv(x)))
            return self.ln(self.linear(x.mean(axis=(1, 2))))

    model = Net(nnx.Rngs(0))
    # Make every param nonzero, so that decay would show on each of them.
    for _, var in nnx.iter_graph(model):
        if isinstance(var, nnx.Param):
            var[...] = jnp.full_like(var[...], 0.5)
    before = jax.tree.map(jnp.array, nnx.state(model, nnx.Param))
    lr, wd = 0.1, 0.5
    opt = nnx.Optimizer(
        model, gradtx.adamw(lr, weight_decay=wd, mask=gradtx.decay_mask), wrt=nnx.Param
    )
    # Zero gradients: Adam's step is 0, so any change is decay, -lr*wd*theta.
    opt.update(model, jax.tree.map(jnp.zeros_like, nnx.state(model, nnx.Param)))
    after = nnx.state(model, nnx.Param)
    decayed = {"conv/kernel", "linear/kernel"}
    seen = set()
    flat_before = jax.tree_util.tree_flatten_with_path(before)[0]
    for (path, old), new in zip(flat_before, jax.tree.leaves(after), strict=True):
        name = "/".join(
            str(k.key) for k in path if isinstance(k, jax.tree_util.DictKey)
        )
        seen.add(name)
        factor = 1 - lr * wd if name in decayed else 1.0
        np.testing.assert_allclose(new, factor * old, rtol=1e-6, err_msg=name)
    assert decayed <= seen and {"bn/scale", "bn/bias", "ln/scale"} <= seen
