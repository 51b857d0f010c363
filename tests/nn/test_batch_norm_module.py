"""gradtx.nn.BatchNorm against flax.nnx.BatchNorm, modes, optimizer and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import gradtx
import gradtx.nn

RNG = np.random.default_rng(1)
X = jnp.asarray(RNG.normal(1.5, 2.0, size=(8, 3, 3, 4)), jnp.float32)


def _pair(**kwargs: object) -> tuple[gradtx.nn.BatchNorm, nnx.BatchNorm]:
    ours = gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0), **kwargs)  # type: ignore[arg-type]
    theirs = nnx.BatchNorm(4, rngs=nnx.Rngs(0), **kwargs)  # type: ignore[arg-type]
    return ours, theirs


def test_same_parameters_state_and_key_use_as_flax() -> None:
    init = nnx.initializers.normal(1.0)
    rngs_a, rngs_b = nnx.Rngs(3), nnx.Rngs(3)
    ours = gradtx.nn.BatchNorm(4, scale_init=init, bias_init=init, rngs=rngs_a)
    theirs = nnx.BatchNorm(4, scale_init=init, bias_init=init, rngs=rngs_b)
    for name in ("scale", "bias"):
        np.testing.assert_array_equal(
            getattr(ours, name)[...], getattr(theirs, name)[...]
        )
    # The same number of keys was drawn: the next layer built is the same too.
    np.testing.assert_array_equal(
        jax.random.key_data(rngs_a.params()), jax.random.key_data(rngs_b.params())
    )
    assert jax.tree.structure(nnx.state(ours, nnx.Param)) == jax.tree.structure(
        nnx.state(theirs, nnx.Param)
    )
    assert set(nnx.state(ours, nnx.BatchStat)) == {"mean", "var"}


def test_five_training_steps_eval_and_gradients_match_flax() -> None:
    ours, theirs = _pair(momentum=0.8)
    scale = jnp.asarray(RNG.uniform(0.5, 2, 4), jnp.float32)
    for layer in (ours, theirs):
        layer.scale[...] = scale
    for i in range(5):
        x = X * (1 + 0.2 * i) - i
        np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-5, atol=1e-5)
    for name in ("mean", "var"):
        np.testing.assert_allclose(
            getattr(ours, name)[...], getattr(theirs, name)[...], rtol=1e-6
        )
    ours.eval()
    theirs.eval()
    assert ours.use_running_average is True
    np.testing.assert_allclose(ours(X), theirs(X), rtol=1e-5, atol=1e-5)
    ours.train()
    theirs.train()

    def loss(layer: nnx.Module, x: jax.Array) -> jax.Array:
        return jnp.sum(jnp.sin(layer(x)) * jnp.arange(4.0)[None, None, None])

    g_ours = nnx.grad(loss, argnums=(0, 1))(ours, X)
    g_theirs = nnx.grad(loss, argnums=(0, 1))(theirs, X)
    np.testing.assert_allclose(g_ours[1], g_theirs[1], rtol=1e-4, atol=1e-5)
    for name in ("scale", "bias"):
        np.testing.assert_allclose(
            g_ours[0][name][...], g_theirs[0][name][...], rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize("dtype", [None, jnp.bfloat16])
def test_output_dtype_follows_flax(dtype: object) -> None:
    ours, theirs = _pair(dtype=dtype)
    x = X.astype(jnp.bfloat16)
    y_ours, y_theirs = ours(x), theirs(x)
    assert y_ours.dtype == y_theirs.dtype  # float32 when dtype is None, as Flax
    np.testing.assert_allclose(
        y_ours.astype(jnp.float32), y_theirs.astype(jnp.float32), rtol=2e-2, atol=2e-2
    )
    assert ours.mean[...].dtype == jnp.float32


def test_modes_train_eval_view_and_call_override() -> None:
    layer = gradtx.nn.BatchNorm(4, momentum=0.5, rngs=nnx.Rngs(0))
    mean0 = layer.mean[...]
    evaluation = nnx.view(layer, use_running_average=True)
    y = evaluation(X)
    np.testing.assert_array_equal(layer.mean[...], mean0)  # eval: no update
    # With mean 0 and var 1 the eval output is x / sqrt(1 + eps).
    np.testing.assert_allclose(y, X / np.sqrt(1 + 1e-5), rtol=1e-6)
    layer(X, use_running_average=True)
    np.testing.assert_array_equal(layer.mean[...], mean0)
    layer(X)  # training: updated towards the batch mean
    np.testing.assert_allclose(
        layer.mean[...], 0.5 * np.asarray(X).mean(axis=(0, 1, 2)), rtol=1e-5
    )
    unset = gradtx.nn.BatchNorm(4, use_running_average=None, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="no mode"):
        unset(X)


def test_optimizer_with_wrt_param_never_touches_batch_stats() -> None:
    model = nnx.Sequential(
        nnx.Linear(4, 4, rngs=nnx.Rngs(0)), gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0))
    )
    opt = nnx.Optimizer(model, gradtx.adamw(0.1), wrt=nnx.Param)
    stats_paths = {p for p, _ in nnx.to_flat_state(nnx.state(model, nnx.BatchStat))}
    opt_paths = {p for p, _ in nnx.to_flat_state(nnx.state(opt.opt_state))}
    assert not any(sp[-1] in {"mean", "var"} for sp in map(tuple, opt_paths))
    x = X.reshape(-1, 4)

    def loss(m: nnx.Module) -> jax.Array:
        return jnp.mean(m(x) ** 2)

    grads = nnx.grad(loss, argnums=nnx.DiffState(0, nnx.Param))(model)
    before = nnx.clone(nnx.state(model, nnx.BatchStat))
    opt.update(model, grads)
    after = nnx.state(model, nnx.BatchStat)
    for (_, b), (_, a) in zip(
        nnx.to_flat_state(before), nnx.to_flat_state(after), strict=True
    ):
        np.testing.assert_array_equal(a[...], b[...])
    assert len(stats_paths) == 2
    # Optax as the tx gives the same parameters: the wiring is the same.
    ref = nnx.Sequential(
        nnx.Linear(4, 4, rngs=nnx.Rngs(0)), gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0))
    )
    ref_opt = nnx.Optimizer(ref, optax.adamw(0.1), wrt=nnx.Param)
    ref_opt.update(ref, nnx.grad(loss, argnums=nnx.DiffState(0, nnx.Param))(ref))
    np.testing.assert_allclose(
        model.layers[0].kernel[...], ref.layers[0].kernel[...], rtol=1e-6
    )


def test_jit_compiles_once_per_mode() -> None:
    layer = gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0))
    traces = []

    @nnx.jit
    def step(m: gradtx.nn.BatchNorm, x: jax.Array) -> jax.Array:
        traces.append(1)
        return m(x)

    for i in range(3):
        step(layer, X + i)
    assert len(traces) == 1
    np.testing.assert_allclose(
        layer.mean[...],
        sum(
            0.99**k * 0.01 * (np.asarray(X).mean(axis=(0, 1, 2)) + 2 - k)
            for k in range(3)
        ),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"momentum": 1.5}, ValueError, "momentum"),
        ({"epsilon": 0.0}, ValueError, "epsilon"),
        ({"epsilon": -1e-5}, ValueError, "epsilon"),
        ({"r_max": 2.0}, ValueError, "renorm=True"),
        ({"renorm": True, "r_max": 0.5}, ValueError, "r_max"),
        ({"renorm": True, "d_max": -1.0}, ValueError, "d_max"),
        ({"ghost_batch_size": 0}, ValueError, "ghost_batch_size"),
        ({"rngs": None}, TypeError, "nnx.Rngs"),
        ({"use_fast_variance": 1}, TypeError, "use_fast_variance must be True or"),
        ({"axis_index_groups": [[0, 1]]}, ValueError, "axis_name is None"),
        ({"axis_name": "d", "axis_index_groups": [[0, 1], [2]]}, ValueError, "equal"),
        ({"axis_name": "d", "axis_index_groups": [[0], [0]]}, ValueError, "once"),
        ({"axis_name": "d", "axis_index_groups": [[]]}, ValueError, "equal"),
        ({"promote_dtype": "float32"}, TypeError, "promote_dtype is str"),
        ({"scale_metadata": [("a", 1)]}, TypeError, "scale_metadata is list"),
    ],
)
def test_bad_construction(kwargs: dict, error: type, match: str) -> None:
    kwargs = {"rngs": nnx.Rngs(0), **kwargs}
    with pytest.raises(error, match=match):
        gradtx.nn.BatchNorm(4, **kwargs)


def test_missing_rngs_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="rngs"):
        gradtx.nn.BatchNorm(4)  # type: ignore[call-arg]


def test_bad_mask_names_both_shapes_or_the_dtype() -> None:
    layer = gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError, match=r"BatchNorm: mask has shape \(8, 3\).*\(8, 3, 3, 4\)"
    ):
        layer(X, mask=jnp.ones((8, 3), bool))
    with pytest.raises(TypeError, match="mask has dtype float32; it must be boolean"):
        layer(X, mask=jnp.ones((8, 1, 1, 1), jnp.float32))


def test_feature_mismatch_names_both_numbers() -> None:
    layer = gradtx.nn.BatchNorm(3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"num_features=3\) got an input with 4"):
        layer(X)
    layer.eval()
    with pytest.raises(ValueError, match="num_features=4"):
        layer(X)
