"""gradtx.init's registry: names(), get(), every name as a Flax kernel_init,
and arguments checked when an initializer is built (not on first use)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import pytest
from flax import nnx

from gradtx import init

F32 = jnp.float32

# Written out here: jax's 14 names plus gradtx's PyTorch-style and structured ones.
ALL_NAMES = [
    *["constant", "delta_orthogonal", "glorot_normal", "glorot_uniform"],
    *["he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "normal"],
    *["ones", "orthogonal", "truncated_normal", "variance_scaling", "zeros"],
    *["dirac", "eye", "kaiming_normal", "kaiming_uniform", "sparse"],
    *["torch_default_bias", "torch_default_kernel", "uniform"],
    *["xavier_normal", "xavier_uniform"],
]
REQUIRED: dict[str, dict[str, Any]] = {  # arguments without a default
    "constant": {"value": 0.5},
    "sparse": {"sparsity": 0.5},
    "torch_default_bias": {"fan_in": 8},
    "variance_scaling": {"scale": 1.0, "mode": "fan_in", "distribution": "normal"},
}
NOT_FOR = {"linear": {"dirac", "delta_orthogonal"}, "conv": {"eye", "sparse"}}


def test_names_are_sorted_and_complete() -> None:
    assert init.names() == tuple(sorted(ALL_NAMES))
    assert set(init.names()) <= set(init.__all__)
    assert list(init.__all__) == sorted(init.__all__)


def _layer(kind: str, kernel_init: Any, dtype: Any) -> Any:
    rngs = nnx.Rngs(0)
    if kind == "linear":
        return nnx.Linear(8, 16, kernel_init=kernel_init, param_dtype=dtype, rngs=rngs)
    return nnx.Conv(4, 8, (3, 3), kernel_init=kernel_init, param_dtype=dtype, rngs=rngs)


# float64 on the Linear only: each new (op, shape, dtype) costs a compile.
@pytest.mark.parametrize(
    ("kind", "dtype"), [("linear", jnp.float32), ("linear", jnp.float64), ("conv", F32)]
)
def test_every_name_is_a_flax_kernel_init(kind: str, dtype: Any) -> None:
    shape = (8, 16) if kind == "linear" else (3, 3, 4, 8)
    for name in init.names():
        if name in NOT_FOR[kind]:
            continue
        initializer = init.get(name, **REQUIRED.get(name, {}))
        kernel = _layer(kind, initializer, dtype).kernel[...]
        assert kernel.shape == shape and kernel.dtype == dtype, name
        assert bool(jnp.all(jnp.isfinite(kernel))), name


def test_unknown_names_list_the_valid_ones_and_the_closest() -> None:
    with pytest.raises(ValueError, match="Did you mean 'kaiming_normal'") as err:
        init.get("kaiming_norml")
    assert "Valid names: " + ", ".join(sorted(ALL_NAMES)) in str(err.value)
    for wrong in ("relu", "leaky_relu", "tanh"):  # a nonlinearity is not an init
        with pytest.raises(ValueError, match=f"unknown initializer '{wrong}'.*kaim"):
            init.get(wrong)
    with pytest.raises(TypeError, match="string"):
        init.get(None)  # type: ignore[arg-type]
    assert init.get("Kaiming-Normal") is not None  # case and dashes are forgiven


VS = {"scale": 1.0, "mode": "fan_in", "distribution": "normal"}


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("kaiming_normal", {"mode": "fan_avg"}, ValueError, "'fan_avg'.*'fan_out'"),
        ("kaiming_uniform", {"mode": "fan_inn"}, ValueError, "Did you mean 'fan_in'"),
        ("kaiming_normal", {"mode": 0.1}, TypeError, "negative_slope=0.1"),  # torch's a
        ("kaiming_uniform", {"nonlinearity": "gelu"}, ValueError, "'gelu'.*leaky_relu"),
        ("kaiming_normal", {"nonlinearity": "relu", "negative_slope": 0.1}, ValueError,
         "negative_slope"),
        ("kaiming_normal", {"in_axis": "a"}, TypeError, "in_axis"),
        ("kaiming_normal", {"a": 0.1}, TypeError, "'a'.*negative_slope"),
        ("variance_scaling", {**VS, "mode": "fan_sideways"}, ValueError,
         "mode='fan_sideways'.*'fan_geo_avg'"),
        ("variance_scaling", {**VS, "distribution": "cauchy"}, ValueError,
         "distribution='cauchy'.*'truncated_normal'"),
        ("variance_scaling", {**VS, "scale": 0.0}, ValueError, "scale"),
        ("constant", {}, TypeError, "value"),
        ("zeros", {"dtype": F32}, TypeError, "takes no arguments"),
        ("xavier_normal", {"gain": -1.0}, ValueError, "gain"),
        ("sparse", {"sparsity": 1.5}, ValueError, "sparsity"),
        ("sparse", {"sparsity": 0.5, "std": -1.0}, ValueError, "std"),
        ("dirac", {"groups": 0}, ValueError, "groups"),
        ("torch_default_bias", {"fan_in": 0}, ValueError, "fan_in"),
        ("uniform", {"scale": -1.0}, ValueError, "scale"),
        ("uniform", {"low": 1.0}, ValueError, "both low and high"),
        ("uniform", {"scale": 0.1, "low": 0.0, "high": 1.0}, ValueError, "not both"),
        ("uniform", {"low": 1.0, "high": 0.0}, ValueError, "low < high"),
    ],
)  # fmt: skip
def test_bad_arguments_fail_when_built(
    name: str, kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        init.get(name, **kwargs)
    if name not in ("zeros", "constant") and "a" not in kwargs:
        with pytest.raises(error, match=match):  # the function itself, too
            getattr(init, name)(**kwargs)
