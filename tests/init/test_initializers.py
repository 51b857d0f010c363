"""gradtx.init's initializers: statistics against torch.nn.init's formulas,
parity with jax, identity and sparsity structure (the registry: test_registry).

Every expected value is computed here from the documented formulas (PyTorch's
torch.nn.init docs, jax's variance_scaling docs), never taken from the code.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from gradtx import init

KEY = jax.random.key(0)
F32 = jnp.float32
DENSE = (256, 1024)  # fan_in 256, fan_out 1024: the modes differ 4x
CONV = (3, 3, 64, 128)  # HWIO: fan_in 576, fan_out 1152


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """fan_in, fan_out of a Flax kernel, as torch.nn.init counts them."""
    window = math.prod(shape[:-2])
    return shape[-2] * window, shape[-1] * window


# torch.nn.init.calculate_gain's table, from PyTorch's documentation.
GAINS = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}


def leaky_gain(slope: float) -> float:
    return math.sqrt(2.0 / (1.0 + slope**2))


def test_calculate_gain_matches_pytorchs_table() -> None:
    for name, gain in GAINS.items():
        assert init.calculate_gain(name) == pytest.approx(gain, rel=1e-12), name
    assert init.calculate_gain("leaky_relu") == pytest.approx(leaky_gain(0.01))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(leaky_gain(0.2))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2.0))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("gelu",), r"unknown nonlinearity 'gelu'.*leaky_relu.*selu"),
        (("leaky_relu", "0.2"), "param"),
        (("leaky_relu", True), "param"),
        (("leaky_relu", math.nan), "param"),
        (("relu", 0.2), "only used by 'leaky_relu'"),
    ],
)
def test_calculate_gain_rejects_bad_input(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        init.calculate_gain(*args)


def truncated_std() -> float:
    """Standard deviation of N(0, 1) truncated to (-2, 2)."""
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    return math.sqrt(1 - 2 * 2 * phi2 / mass)


# (id, initializer, shape, distribution, spread): spread is the standard
# deviation of a normal, the bound b of U(-b, b); both from torch's docs.
def _cases() -> list[tuple[str, Any, tuple[int, ...], str, float]]:
    out: list[tuple[str, Any, tuple[int, ...], str, float]] = []
    for shape in (DENSE, CONV):
        fi, fo = fans(shape)
        for mode, fan in (("fan_in", fi), ("fan_out", fo)):
            for nl, slope, gain in [
                ("leaky_relu", 0.0, math.sqrt(2.0)),
                ("leaky_relu", 0.3, leaky_gain(0.3)),
                ("tanh", 0.0, 5.0 / 3.0),
            ]:
                kw: dict[str, Any] = {"mode": mode, "nonlinearity": nl}
                kw["negative_slope"] = slope
                tag = f"{shape}-{mode}-{nl}-{slope}"
                std = gain / math.sqrt(fan)
                bound = gain * math.sqrt(3.0 / fan)
                out.append(
                    (f"kn-{tag}", init.kaiming_normal(**kw), shape, "normal", std)
                )
                out.append(
                    (f"ku-{tag}", init.kaiming_uniform(**kw), shape, "uniform", bound)
                )
        for gain in (1.0, 5.0 / 3.0):
            std = gain * math.sqrt(2.0 / (fi + fo))
            bound = gain * math.sqrt(6.0 / (fi + fo))
            xn, xu = init.xavier_normal(gain), init.xavier_uniform(gain)
            out.append((f"xn-{shape}-{gain}", xn, shape, "normal", std))
            out.append((f"xu-{shape}-{gain}", xu, shape, "uniform", bound))
        tk = init.torch_default_kernel()
        out.append((f"torch-{shape}", tk, shape, "uniform", 1 / math.sqrt(fi)))
        # jax's variance_scaling: variance scale / n.
        for mode, n in [
            ("fan_in", fi),
            ("fan_out", fo),
            ("fan_avg", (fi + fo) / 2),
            ("fan_geo_avg", math.sqrt(fi * fo)),
        ]:
            for dist in ("normal", "truncated_normal", "uniform"):
                vs = init.variance_scaling(2.0, mode, dist)
                std = math.sqrt(2.0 / n)
                spread = std * math.sqrt(3) if dist == "uniform" else std
                out.append((f"vs-{shape}-{mode}-{dist}", vs, shape, dist, spread))
    bias = init.torch_default_bias(300)
    out.append(("torch-bias", bias, (100_000,), "uniform", 1 / math.sqrt(300)))
    return out


CASES = _cases()


@pytest.mark.parametrize(
    ("initializer", "shape", "dist", "spread"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_sample_statistics_match_the_formulas(
    initializer: Any, shape: tuple[int, ...], dist: str, spread: float
) -> None:
    drawn = initializer(KEY, shape, F32)
    assert drawn.shape == shape and drawn.dtype == F32
    w = np.asarray(drawn, np.float64)
    std = spread / math.sqrt(3.0) if dist == "uniform" else spread
    n = w.size
    assert abs(w.mean()) < 5 * std / math.sqrt(n)  # mean 0
    assert w.var() == pytest.approx(std**2, rel=0.03)
    if dist == "uniform":
        assert np.abs(w).max() <= spread * (1 + 1e-6)  # the bounds hold
        assert w.max() > 0.99 * spread and w.min() < -0.99 * spread  # and are hit
    if dist == "normal":  # a plain normal: ~30 draws beyond 3.5 sigma in 7e4
        assert np.abs(w).max() > 3.5 * std
    if dist == "truncated_normal":  # jax's: N(0, 1) cut at 2, then rescaled
        assert np.abs(w).max() <= 2 * std / truncated_std() * (1 + 1e-6)


@pytest.mark.parametrize("shape", [DENSE, CONV])
def test_he_normal_is_truncated_and_kaiming_normal_is_not(shape: tuple) -> None:
    fi, _ = fans(shape)
    std = math.sqrt(2.0 / fi)
    he = np.asarray(init.he_normal()(KEY, shape, F32), np.float64)
    ka = np.asarray(init.kaiming_normal()(KEY, shape, F32), np.float64)
    assert he.var() == pytest.approx(std**2, rel=0.03)
    assert ka.var() == pytest.approx(std**2, rel=0.03)
    # jax draws N(0, 1) cut at +-2 and rescales by 1 / truncated_std().
    assert np.abs(he).max() <= 2 * std / truncated_std() * (1 + 1e-6)
    assert np.abs(ka).max() > 3.5 * std > 2 * std / truncated_std()


def test_custom_fan_axes() -> None:
    shape = (16, 32, 64)  # (in1, in2, out): fan_in 512
    w = init.kaiming_normal(in_axis=(0, 1), out_axis=2)(KEY, shape, F32)
    assert float(np.var(np.asarray(w, np.float64))) == pytest.approx(2 / 512, rel=0.03)
    w = init.xavier_uniform(batch_axis=0)(KEY, (4, 128, 256), F32)  # no window
    assert np.abs(np.asarray(w)).max() <= math.sqrt(6 / (128 + 256)) * (1 + 1e-6)


def test_uniform_keeps_jax_semantics_and_adds_bounds() -> None:
    shape = (300, 200)
    for scale in (None, 0.3):
        ours = init.uniform() if scale is None else init.uniform(scale)
        theirs = (
            jax.nn.initializers.uniform()
            if scale is None
            else jax.nn.initializers.uniform(scale)
        )
        np.testing.assert_array_equal(ours(KEY, shape, F32), theirs(KEY, shape, F32))
    np.testing.assert_array_equal(
        init.uniform(0.3, F32)(KEY, shape),
        jax.nn.initializers.uniform(0.3, F32)(KEY, shape),
    )
    w = np.asarray(init.uniform(low=-0.5, high=1.5)(KEY, shape, F32), np.float64)
    assert w.min() >= -0.5 and w.max() < 1.5
    assert w.mean() == pytest.approx(0.5, abs=0.01)
    assert w.var() == pytest.approx(2.0**2 / 12, rel=0.03)


# jax's names, each with arguments that exercise it, and a shape it accepts.
JAX_NAMES: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "constant": ({"value": -0.5}, (16, 32)),
    "delta_orthogonal": ({"scale": 2.0}, (3, 3, 16, 32)),
    "glorot_normal": ({}, (16, 32)),
    "glorot_uniform": ({}, (3, 3, 16, 32)),
    "he_normal": ({}, (16, 32)),
    "he_uniform": ({}, (16, 32)),
    "lecun_normal": ({}, (16, 32)),
    "lecun_uniform": ({}, (16, 32)),
    "normal": ({"stddev": 0.5}, (16, 32)),
    "ones": ({}, (16, 32)),
    "orthogonal": ({"scale": 1.5}, (16, 32)),
    "truncated_normal": ({"stddev": 0.5}, (16, 32)),
    "variance_scaling": (
        {"scale": 3.0, "mode": "fan_avg", "distribution": "uniform"},
        (16, 32),
    ),
    "zeros": ({}, (16, 32)),
}


@pytest.mark.parametrize("name", sorted(JAX_NAMES))
def test_jax_names_are_jax_initializers(name: str) -> None:
    kwargs, shape = JAX_NAMES[name]
    theirs = getattr(jax.nn.initializers, name)
    if name != "variance_scaling":  # checked at build time, then jax's own
        assert getattr(init, name) is theirs
    if name not in ("zeros", "ones"):
        theirs = theirs(**kwargs)
    ours = init.get(name, **kwargs)
    np.testing.assert_array_equal(ours(KEY, shape, F32), theirs(KEY, shape, F32))


def test_pytorch_names_are_not_jaxs_aliases() -> None:
    for name in (
        "xavier_normal",
        "xavier_uniform",
        "kaiming_normal",
        "kaiming_uniform",
    ):
        assert getattr(init, name) is not getattr(jax.nn.initializers, name)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (3, 3, 16, 24)])
def test_orthogonal_columns_or_rows(shape: tuple[int, ...]) -> None:
    w = np.asarray(init.orthogonal()(KEY, shape, jnp.float64)).reshape(-1, shape[-1])
    small = min(w.shape)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)


@pytest.mark.parametrize(("fan_in", "fan_out"), [(8, 16), (16, 8), (8, 8)])
def test_eye_layer_copies_its_inputs(fan_in: int, fan_out: int) -> None:
    layer = nnx.Linear(fan_in, fan_out, kernel_init=init.eye(), rngs=nnx.Rngs(0))
    x = np.asarray(jax.random.normal(KEY, (5, fan_in), F32))
    expected = np.zeros((5, fan_out), np.float32)
    k = min(fan_in, fan_out)
    expected[:, :k] = x[:, :k]
    np.testing.assert_array_equal(layer(jnp.asarray(x)), expected)


@pytest.mark.parametrize(
    ("c_in", "c_out", "groups", "window", "pairs"),
    [  # (input channel, output channel) that must be copied
        (4, 8, 1, (3, 3), [(0, 0), (1, 1), (2, 2), (3, 3)]),
        (8, 4, 1, (3, 3), [(0, 0), (1, 1), (2, 2), (3, 3)]),
        (4, 8, 2, (3, 3), [(0, 0), (1, 1), (2, 4), (3, 5)]),
        (6, 6, 3, (5,), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]),
        (2, 4, 1, (3, 3, 3), [(0, 0), (1, 1)]),
    ],
)
def test_dirac_conv_returns_its_input(
    c_in: int, c_out: int, groups: int, window: tuple, pairs: list
) -> None:
    conv = nnx.Conv(
        c_in,
        c_out,
        window,
        padding="SAME",
        feature_group_count=groups,
        kernel_init=init.dirac(groups),
        rngs=nnx.Rngs(0),
    )
    x = np.asarray(jax.random.normal(KEY, (2, *[6] * len(window), c_in), F32))
    expected = np.zeros((*x.shape[:-1], c_out), np.float32)
    for i, o in pairs:
        expected[..., o] = x[..., i]
    np.testing.assert_allclose(conv(jnp.asarray(x)), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("sparsity", "rows"), [(0.0, 10), (0.3, 10), (0.1, 512), (0.9, 512), (1.0, 7)]
)
def test_sparse_zeros_per_column(sparsity: float, rows: int) -> None:
    cols = 300 if rows == 512 else 6
    w = np.asarray(init.sparse(sparsity, std=0.5)(KEY, (rows, cols), F32))
    zeros = (w == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, math.ceil(sparsity * rows))  # torch's rule
    if rows == 512:
        nonzero = w[w != 0].astype(np.float64)
        assert nonzero.var() == pytest.approx(0.25, rel=0.03)
        assert len({tuple(np.flatnonzero(w[:, j] == 0)) for j in range(cols)}) == cols


def test_initializers_work_under_jit_and_default_to_float32() -> None:
    for initializer, shape in [
        (init.kaiming_normal(), (8, 4)),
        (init.sparse(0.5), (8, 4)),
        (init.dirac(), (3, 3, 4, 4)),
        (init.uniform(low=-1.0, high=1.0), (8, 4)),
    ]:
        eager = initializer(KEY, shape)
        assert eager.dtype == jnp.float32  # even with x64 on
        jitted = jax.jit(initializer, static_argnums=(1, 2))(KEY, shape, F32)
        np.testing.assert_allclose(eager, jitted, rtol=1e-6)  # fusion: ~1 ulp
        legacy = initializer(jax.random.PRNGKey(0), shape, jnp.float64)
        assert legacy.shape == shape and legacy.dtype == jnp.float64


@pytest.mark.parametrize(
    ("initializer", "shape", "match"),
    [
        (init.kaiming_normal(), (5,), "rank >= 2"),
        (init.xavier_uniform(in_axis=3), (4, 4), "in_axis=3 is out of range"),
        (init.eye(), (3, 3, 4, 4), "dirac"),
        (init.dirac(), (4, 4), "eye"),
        (init.dirac(groups=4), (3, 3, 2, 6), "divisible by groups"),
        (init.sparse(0.5), (3, 4, 4), "2-D"),
    ],
)
def test_shapes_that_do_not_fit_fail_when_called(
    initializer: Any, shape: tuple, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        initializer(KEY, shape, F32)
