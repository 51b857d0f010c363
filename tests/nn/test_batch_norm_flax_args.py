"""flax.nnx.BatchNorm's arguments in gradtx.nn.BatchNorm: the same names,
defaults and results (mask, promote_dtype, scale/bias metadata; the
``use_fast_variance`` default differs on purpose). ``axis_index_groups`` needs
several devices: see ``tests/scripts/sharded_batch_norm.py``."""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import gradtx.nn

F32 = jnp.float32
RNG = np.random.default_rng(4)
X = jnp.asarray(RNG.normal(1.5, 2.0, size=(8, 3, 3, 4)), F32)
SCALE = jnp.asarray(RNG.uniform(0.5, 2.0, 4), F32)
WEIGHTS = jnp.asarray(RNG.normal(size=X.shape), F32)

_step = nnx.jit(lambda layer, x, mask: layer(x, mask=mask))


def _loss(layer: nnx.Module, x: jax.Array, mask: jax.Array) -> jax.Array:
    return jnp.sum(WEIGHTS * layer(x, mask=mask))


_grads = nnx.jit(nnx.grad(_loss, argnums=(0, 1)))


def _pair(**kwargs: Any) -> tuple[gradtx.nn.BatchNorm, nnx.BatchNorm]:
    return (
        gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0), **kwargs),
        nnx.BatchNorm(4, rngs=nnx.Rngs(0), **kwargs),
    )


def _close(a: Any, b: Any, tol: float = 1e-5) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(
            np.asarray(x, np.float32), np.asarray(y, np.float32), rtol=tol, atol=tol
        )


def test_signatures_are_flax_s() -> None:
    for method in ("__init__", "__call__"):
        ours = inspect.signature(getattr(gradtx.nn.BatchNorm, method)).parameters
        theirs = inspect.signature(getattr(nnx.BatchNorm, method)).parameters
        for name, param in theirs.items():
            assert name in ours, f"{method}: no {name}"
            assert ours[name].kind == param.kind, name
            if name == "use_fast_variance":  # on purpose; README's table says why
                assert (ours[name].default, param.default) == (False, True)
            else:
                assert ours[name].default == param.default, name


@pytest.mark.parametrize(
    ("mask_shape", "fast"), [((8, 1, 3, 1), False), ((8, 3, 3, 4), True)]
)
def test_mask_matches_flax(mask_shape: tuple[int, ...], fast: bool) -> None:
    mask = jnp.asarray(RNG.uniform(size=mask_shape) < 0.6)
    ours, theirs = _pair(momentum=0.5, use_fast_variance=fast)
    for layer in (ours, theirs):
        layer.scale[...] = SCALE
    mean, var = np.zeros(4), np.ones(4)
    kept = np.broadcast_to(np.asarray(mask), X.shape)
    for i in range(2):
        x = X * (1 + 0.5 * i) + i
        _close(_step(ours, x, mask), _step(theirs, x, mask))
        # Independently: the statistics of the kept elements alone.
        x64 = np.where(kept, np.asarray(x, np.float64), np.nan)
        mean = 0.5 * mean + 0.5 * np.nanmean(x64, axis=(0, 1, 2))
        var = 0.5 * var + 0.5 * np.nanvar(x64, axis=(0, 1, 2))
    _close(nnx.state(ours, nnx.BatchStat), nnx.state(theirs, nnx.BatchStat), 1e-6)
    np.testing.assert_allclose(ours.mean[...], mean, rtol=1e-6)
    np.testing.assert_allclose(ours.var[...], var, rtol=1e-5)
    if not fast:  # one gradient check: the mask path is shared
        (g_ours, gx_ours), (g_theirs, gx_theirs) = (
            _grads(layer, X, mask) for layer in (ours, theirs)
        )
        _close(gx_ours, gx_theirs)
        _close(g_ours["scale"][...], g_theirs["scale"][...])


def test_default_promote_dtype_casts_the_input_first_as_flax() -> None:
    # dtype=bfloat16 with a float32 input: Flax rounds the input to bfloat16
    # before the statistics; the running variance shows it (~1e-3 apart).
    ours, theirs = _pair(dtype=jnp.bfloat16, use_fast_variance=False)
    y_ours, y_theirs = _step(ours, X, None), _step(theirs, X, None)
    assert y_ours.dtype == y_theirs.dtype == jnp.bfloat16
    _close(y_ours, y_theirs, 2e-2)
    _close(nnx.state(ours, nnx.BatchStat), nnx.state(theirs, nnx.BatchStat), 1e-6)
    assert ours.var[...].dtype == jnp.float32


def test_custom_promote_dtype_is_called_as_flax_calls_it() -> None:
    calls: list[tuple[Any, ...]] = []

    def to_half(args: tuple, /, *, dtype: Any = None, inexact: bool = True) -> tuple:
        calls.append((len(args), [a is None for a in args], dtype))
        return tuple(None if a is None else jnp.asarray(a, jnp.float16) for a in args)

    ours, theirs = _pair(use_bias=False, promote_dtype=to_half)
    y_ours, y_theirs = _step(ours, X, None), _step(theirs, X, None)
    assert y_ours.dtype == y_theirs.dtype == jnp.float16
    assert calls[0] == calls[1] == (5, [False] * 4 + [True], None)
    _close(y_ours, y_theirs, 1e-2)
    _close(nnx.state(ours, nnx.BatchStat), nnx.state(theirs, nnx.BatchStat), 1e-6)


def test_scale_and_bias_metadata_as_flax() -> None:
    meta = {
        "scale_metadata": {"out_sharding": ("model",), "eager_sharding": False},
        "bias_metadata": {"note": "beta"},
    }
    ours, theirs = _pair(**meta)
    for name in ("scale", "bias"):
        assert (
            getattr(ours, name).get_metadata() == getattr(theirs, name).get_metadata()
        )
    specs = nnx.get_partition_spec(nnx.state(ours, nnx.Param))
    assert specs["scale"].get_value() == jax.sharding.PartitionSpec("model")
