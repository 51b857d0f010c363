"""No silent wrong images: every real parameter of gradtx.augment, NaN or infinite.

One contract over every parameter (issue 14): a concrete NaN or infinite value
raises ValueError naming the function, the argument and the value; a traced
one (here: vmapped, the values cannot be read) makes the whole output NaN, or
all zeros for uint8, while a valid traced value gives the same image, bit for
bit, as the concrete call. Before, a NaN angle gave an all-black image, an
infinite zoom a flat one, ``delta=inf`` a white one.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gradtx import augment

KEY = jax.random.key(0)
RNG = np.random.default_rng(3)
IMAGE = jnp.asarray(RNG.uniform(0.1, 0.9, (4, 4, 3)), jnp.float32)
UINT8 = jnp.asarray(RNG.integers(0, 256, (4, 4, 3)), jnp.uint8)
BAD = (math.nan, math.inf)

Call = Callable[[jax.Array, jax.Array, Any], jax.Array]
A = augment
_pad = functools.partial(A.pad_to_size, height=6, width=6)
_crop = functools.partial(A.random_crop, size=4, padding=1)

# (function, argument named in the message, call(key, image, value), valid value)
CASES: list[tuple[str, str, Call, float]] = [
    ("rotate", "angle", lambda k, x, v: A.rotate(x, v), 0.3),
    ("rotate", "cval", lambda k, x, v: A.rotate(x, 0.3, cval=v), 0.5),
    ("random_rotation", "max_angle", A.random_rotation, 0.3),
    (
        "random_affine",
        "max_angle",
        lambda k, x, v: A.random_affine(k, x, max_angle=v),
        0.3,
    ),
    (
        "random_affine",
        "scale[1]",
        lambda k, x, v: A.random_affine(k, x, scale=(0.9, v)),
        1.1,
    ),
    ("random_affine", "scale", lambda k, x, v: A.random_affine(k, x, scale=v), 1.2),
    (
        "random_affine",
        "max_shear",
        lambda k, x, v: A.random_affine(k, x, max_shear=v),
        0.2,
    ),
    (
        "random_affine",
        "max_translate[1]",
        lambda k, x, v: A.random_affine(k, x, max_translate=(0.1, v)),
        0.2,
    ),
    ("random_flip_left_right", "p", A.random_flip_left_right, 0.5),
    ("random_flip_up_down", "p", A.random_flip_up_down, 0.5),
    ("pad_to_size", "cval", lambda k, x, v: _pad(x, cval=v), 0.5),
    ("random_crop", "cval", lambda k, x, v: _crop(k, x, cval=v), 0.5),
    ("cutout", "cval", lambda k, x, v: A.cutout(k, x, 2, cval=v), 0.5),
    ("random_apply", "p", lambda k, x, v: A.random_apply(A.flip_up_down, v)(k, x), 0.5),
    ("adjust_brightness", "delta", lambda k, x, v: A.adjust_brightness(x, v), 0.1),
    ("random_brightness", "max_delta", A.random_brightness, 0.1),
    ("adjust_contrast", "factor", lambda k, x, v: A.adjust_contrast(x, v), 1.5),
    ("random_contrast", "upper", lambda k, x, v: A.random_contrast(k, x, 0.5, v), 1.5),
    ("adjust_gamma", "gamma", lambda k, x, v: A.adjust_gamma(x, v), 0.8),
    ("adjust_gamma", "gain", lambda k, x, v: A.adjust_gamma(x, 0.8, v), 0.9),
    ("random_gamma", "max_gamma", lambda k, x, v: A.random_gamma(k, x, 0.5, v), 1.5),
    ("gaussian_noise", "std", A.gaussian_noise, 0.05),
    ("adjust_saturation", "factor", lambda k, x, v: A.adjust_saturation(x, v), 1.5),
    (
        "random_saturation",
        "upper",
        lambda k, x, v: A.random_saturation(k, x, 0.5, v),
        1.5,
    ),
    ("adjust_hue", "delta", lambda k, x, v: A.adjust_hue(x, v), 0.1),
    ("random_hue", "max_delta", A.random_hue, 0.1),
    ("normalize", "mean", lambda k, x, v: A.normalize(x, v, 0.25), 0.5),
    ("normalize", "std", lambda k, x, v: A.normalize(x, 0.5, v), 0.25),
]
IDS = [f"{fn}-{arg}" for fn, arg, _, _ in CASES]


@pytest.mark.parametrize(("fn", "arg", "call", "valid"), CASES, ids=IDS)
def test_concrete_nan_and_inf_raise_naming_function_argument_and_value(
    fn: str, arg: str, call: Call, valid: float
) -> None:
    del valid
    for value in BAD:
        with pytest.raises(ValueError, match=rf"{fn}: {re.escape(arg)} is .*{value}"):
            call(KEY, IMAGE, value)
    with pytest.raises(ValueError, match=r"must be .*finite"):  # the NumPy scalar too
        call(KEY, IMAGE, np.float32(-math.inf))


# Traced: one function of each kind (compiling all of them costs seconds), in
# one jit per dtype; vmap over [valid, nan, inf] keeps the values traced.
TRACED = ["rotate-angle", "random_rotation-max_angle", "random_affine-scale[1]",
          "random_flip_left_right-p", "pad_to_size-cval", "adjust_brightness-delta",
          "gaussian_noise-std", "adjust_hue-delta", "normalize-std"]  # fmt: skip
# uint8 (no NaN: zeros): one resampling, one flip, one tone function.
UINT8_TRACED = ["rotate-angle", "random_affine-scale[1]", "random_flip_left_right-p",
                "adjust_brightness-delta"]  # fmt: skip


@functools.cache
def _traced_outputs(dtype: str) -> dict[str, np.ndarray]:
    image = IMAGE if dtype == "float32" else UINT8
    cases = {
        i: (call, valid)
        for (_, _, call, valid), i in zip(CASES, IDS, strict=True)
        if i in (TRACED if dtype == "float32" else UINT8_TRACED)
    }

    @jax.jit
    def run(values: jax.Array) -> dict[str, jax.Array]:
        return {
            i: jax.vmap(lambda v, call=call: call(KEY, image, v))(
                values.at[0].set(valid)
            )
            for i, (call, valid) in cases.items()
        }

    out = run(jnp.asarray([0.0, *BAD], jnp.float32))
    return {i: np.asarray(o) for i, o in out.items()}


@pytest.mark.parametrize("case", TRACED)
def test_traced_nan_and_inf_give_an_all_nan_image(case: str) -> None:
    out = _traced_outputs("float32")[case]
    assert np.isfinite(out[0]).all()  # a valid value: the image itself
    assert np.isnan(out[1:]).all()  # NaN and inf: nothing but NaN


@pytest.mark.parametrize("case", UINT8_TRACED)
def test_uint8_cannot_hold_nan_so_a_traced_bad_value_gives_zeros(case: str) -> None:
    out = _traced_outputs("uint8")[case]
    assert out.dtype == np.uint8 and out[0].any()
    assert (out[1:] == 0).all()


def test_a_fused_chain_propagates_nan_and_checks_each_stage() -> None:
    # chain() composes rotations into one map: a NaN angle poisons the whole.
    def fused(angle: jax.Array) -> jax.Array:
        turn = functools.partial(A.rotate, angle=angle)
        return A.chain(turn, functools.partial(A.random_rotation, max_angle=0.2))(
            KEY, IMAGE
        )

    assert np.isnan(np.asarray(jax.jit(fused)(jnp.float32(math.nan)))).all()
    inf_stage = functools.partial(A.random_rotation, max_angle=math.inf)
    with pytest.raises(ValueError, match=r"random_rotation: max_angle is inf"):
        A.chain(A.flip_left_right, inf_stage, inf_stage)(KEY, IMAGE)


def test_a_bad_traced_value_does_not_retrace() -> None:
    traces = []

    @jax.jit
    def rotate(image: jax.Array, angle: jax.Array) -> jax.Array:
        traces.append(1)
        return A.rotate(image, angle)

    good, bad = rotate(IMAGE, 0.3), rotate(IMAGE, math.nan)
    assert len(traces) == 1
    assert np.isfinite(np.asarray(good)).all() and np.isnan(np.asarray(bad)).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        # A zero zoom divides by zero; only a (low, high) pair used to be checked.
        (lambda: A.random_affine(KEY, IMAGE, scale=0.0), r"random_affine: scale"),
        # low > high used to draw `low` every time.
        (
            lambda: A.random_affine(KEY, IMAGE, scale=(1.2, 0.8)),
            r"scale\[0\] must be <= scale\[1\]",
        ),
        # NaN compares False both ways, so the old sum test let it through.
        (
            lambda: A.random_choice(A.flip_up_down, A.flip_left_right, p=[math.nan, 1]),
            r"random_choice: p must hold 2 non-negative",
        ),
        (
            lambda: A.normalize(IMAGE, (0.5, math.nan, 0.5), 0.25),
            r"normalize: mean is \(0.5, nan, 0.5\)",
        ),
    ],
)
def test_other_silent_values_now_raise(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
