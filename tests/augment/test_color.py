"""gradtx.augment photometric ops (``_tone`` and ``_color``).

Every expected value comes from an independent reference: dm-pix, colorsys,
a NumPy formula, or a distribution checked with a Kolmogorov-Smirnov test.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from functools import partial
from typing import Any

import dm_pix
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from gradtx import augment

KEY = jax.random.key(0)
RNG = np.random.default_rng(0)
# Away from 0 and 1, so that small adjustments do not clip.
IMAGE = RNG.uniform(0.1, 0.9, (8, 8, 3)).astype(np.float32)
IMAGE_U8 = RNG.integers(0, 256, (8, 8, 3)).astype(np.uint8)
GREY = np.full((8, 8, 3), 0.5, np.float32)

Op = Callable[[jax.Array, jax.Array, Any], jax.Array]
T = C = augment

# name -> (op(key, image, p), three values of p); deterministic ops ignore the key.
OPS: dict[str, tuple[Op, tuple[float, ...]]] = {
    "adjust_brightness": (lambda k, x, p: T.adjust_brightness(x, p), (-0.1, 0.0, 0.2)),
    "random_brightness": (T.random_brightness, (0.1, 0.2, 0.3)),
    "adjust_contrast": (lambda k, x, p: T.adjust_contrast(x, p), (0.5, 1.0, 2.0)),
    "random_contrast": (
        lambda k, x, p: T.random_contrast(k, x, p, 2.0),
        (0.0, 1.0, 2.0),
    ),
    "adjust_gamma": (lambda k, x, p: T.adjust_gamma(x, p), (0.5, 1.0, 2.0)),
    "random_gamma": (lambda k, x, p: T.random_gamma(k, x, p, 2.0), (0.5, 1.0, 2.0)),
    "gaussian_noise": (T.gaussian_noise, (0.0, 0.05, 0.1)),
    "normalize": (lambda k, x, p: T.normalize(x, p, 0.25), (0.1, 0.5, 0.9)),
    "adjust_saturation": (lambda k, x, p: C.adjust_saturation(x, p), (0.0, 0.5, 2.0)),
    "random_saturation": (
        lambda k, x, p: C.random_saturation(k, x, p, 2.0),
        (0.0, 1.0, 2.0),
    ),
    "adjust_hue": (lambda k, x, p: C.adjust_hue(x, p), (-0.5, 0.1, 0.5)),
    "random_hue": (C.random_hue, (0.0, 0.25, 0.5)),
}
ALL = sorted(OPS)
UINT8_OK = [name for name in ALL if name != "normalize"]
RGB_ONLY = [name for name in ALL if name.endswith(("hue", "saturation"))]


def _run(name: str, image: Any, p_index: int = 1, key: jax.Array = KEY) -> jax.Array:
    op, values = OPS[name]
    return op(key, jnp.asarray(image), values[p_index])


# ---------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("ours", "theirs", "p"),
    [
        (augment.adjust_brightness, dm_pix.adjust_brightness, 0.05),
        (augment.adjust_brightness, dm_pix.adjust_brightness, -0.08),
        (augment.adjust_contrast, dm_pix.adjust_contrast, 0.6),
        (augment.adjust_contrast, dm_pix.adjust_contrast, 1.2),
        (augment.adjust_contrast, dm_pix.adjust_contrast, 3.0),  # clips
        (augment.adjust_gamma, dm_pix.adjust_gamma, 0.5),
        (
            partial(augment.adjust_gamma, gain=0.9),
            partial(dm_pix.adjust_gamma, gain=0.9),
            2.2,
        ),
        (augment.adjust_saturation, dm_pix.adjust_saturation, 0.0),
        (augment.adjust_saturation, dm_pix.adjust_saturation, 0.4),
        (augment.adjust_saturation, dm_pix.adjust_saturation, 2.5),
        (augment.adjust_hue, dm_pix.adjust_hue, -0.5),
        (augment.adjust_hue, dm_pix.adjust_hue, -0.2),
        (augment.adjust_hue, dm_pix.adjust_hue, 0.37),
    ],
)
def test_matches_dm_pix(
    ours: Callable[..., Any], theirs: Callable[..., Any], p: float
) -> None:
    x = jnp.asarray(IMAGE)
    # dm-pix does not clip brightness and contrast; gradtx keeps the [0, 1] range.
    expected = jnp.clip(theirs(x, p), 0, 1)
    np.testing.assert_allclose(ours(x, p), expected, atol=1e-5, rtol=0)


def _colorsys_map(
    image: np.ndarray, fn: Callable[[float, float, float], tuple]
) -> np.ndarray:
    """Applies ``fn(h, s, v) -> (h, s, v)`` to each pixel through colorsys."""
    out = np.empty(image.shape, np.float64)
    for idx in np.ndindex(image.shape[:2]):
        hsv = colorsys.rgb_to_hsv(*image[idx].astype(np.float64))
        out[idx] = colorsys.hsv_to_rgb(*fn(*hsv))
    return out


@pytest.mark.parametrize("delta", [-0.5, -0.3, 0.0, 1 / 3, 0.45])
def test_hue_matches_colorsys_pixel_by_pixel(delta: float) -> None:
    # Include pure, grey and black pixels, where the hue is degenerate.
    x = IMAGE.copy()
    x[0, :5] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [0, 0, 0]]
    expected = _colorsys_map(x, lambda h, s, v: ((h + delta) % 1.0, s, v))
    np.testing.assert_allclose(
        augment.adjust_hue(jnp.asarray(x), delta), expected, atol=1e-5
    )


@pytest.mark.parametrize("factor", [0.0, 0.3, 1.0, 1.7, 10.0])
def test_saturation_matches_colorsys_pixel_by_pixel(factor: float) -> None:
    x = IMAGE.copy()
    x[0, :3] = [[0.5, 0.5, 0.5], [0, 0, 0], [1, 1, 1]]
    expected = _colorsys_map(x, lambda h, s, v: (h, min(s * factor, 1.0), v))
    np.testing.assert_allclose(
        augment.adjust_saturation(jnp.asarray(x), factor), expected, atol=1e-5
    )


@pytest.mark.parametrize("factor", [0.0, 0.7, 1.0, 1.3, 4.0])
def test_contrast_matches_numpy(factor: float) -> None:
    x = IMAGE.astype(np.float64)
    mean = x.mean(axis=(0, 1))  # per channel
    expected = np.clip((x - mean) * factor + mean, 0, 1)
    np.testing.assert_allclose(
        augment.adjust_contrast(jnp.asarray(IMAGE), factor), expected, atol=1e-6
    )


def test_brightness_adds_exactly_and_clips() -> None:
    x = (RNG.integers(0, 6, (8, 8, 3)) / 8).astype(np.float32)  # 0 .. 5/8
    np.testing.assert_array_equal(
        augment.adjust_brightness(jnp.asarray(x), 0.25), x + 0.25
    )
    np.testing.assert_array_equal(
        augment.adjust_brightness(jnp.asarray(x), 0.5), np.minimum(x + 0.5, 1)
    )
    np.testing.assert_array_equal(
        augment.adjust_brightness(jnp.asarray(x), -0.25), np.maximum(x - 0.25, 0)
    )


def test_gamma_and_normalize_match_numpy() -> None:
    x = IMAGE.astype(np.float64)
    np.testing.assert_allclose(
        augment.adjust_gamma(jnp.asarray(IMAGE), 2.0, 0.5), 0.5 * x**2, rtol=1e-6
    )
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(
        augment.normalize(jnp.asarray(IMAGE), mean, std), (x - mean) / std, rtol=1e-5
    )
    np.testing.assert_allclose(
        augment.normalize(jnp.asarray(IMAGE), 0.5, 0.25), (x - 0.5) / 0.25, rtol=1e-5
    )


def test_hsv_gradients_are_finite_on_grey_and_black_pixels() -> None:
    x = jnp.asarray(np.stack([GREY[0], np.zeros((8, 3), np.float32)]))
    for fn in (
        lambda v: augment.adjust_hue(v, 0.2),
        lambda v: augment.adjust_saturation(v, 1.5),
    ):
        grad = jax.jit(jax.grad(lambda v, fn=fn: jnp.sum(fn(v))))(x)
        assert bool(jnp.all(jnp.isfinite(grad)))


# ---------------------------------------------------------------- statistics

KEYS = jax.random.split(jax.random.key(42), 2000)


def _ks_uniform(samples: Any, low: float, high: float) -> None:
    samples = np.asarray(samples, np.float64)
    assert samples.min() >= low - 1e-6 and samples.max() <= high + 1e-6
    assert stats.kstest(samples, "uniform", args=(low, high - low)).pvalue > 1e-3


def test_random_brightness_delta_is_uniform_and_per_example() -> None:
    out = jax.jit(
        jax.vmap(lambda k: augment.random_brightness(k, jnp.asarray(GREY), 0.3))
    )(KEYS)
    deltas = np.asarray(out[:, 0, 0, 0], np.float64) - 0.5
    # One delta per image, shared by all its pixels and channels.
    np.testing.assert_array_equal(out, jnp.broadcast_to(out[:, :1, :1, :1], out.shape))
    _ks_uniform(deltas, -0.3, 0.3)
    assert len(np.unique(deltas)) == len(deltas)  # every key its own delta


def test_random_contrast_and_gamma_factors_are_uniform() -> None:
    x = np.where(np.arange(64).reshape(8, 8, 1) % 2 == 0, 0.4, 0.6) * np.ones(3)
    x = jnp.asarray(x, jnp.float32)  # per-channel mean exactly 0.5
    out = jax.jit(jax.vmap(lambda k: augment.random_contrast(k, x, 0.5, 1.5)))(KEYS)
    _ks_uniform((np.asarray(out[:, 0, 1, 0], np.float64) - 0.5) / 0.1, 0.5, 1.5)
    out = jax.jit(
        jax.vmap(lambda k: augment.random_gamma(k, jnp.asarray(GREY), 0.5, 2.0))
    )(KEYS)
    _ks_uniform(np.log(np.asarray(out[:, 0, 0, 0], np.float64)) / np.log(0.5), 0.5, 2.0)


def test_random_hue_and_saturation_are_uniform() -> None:
    pixel = np.array([0.8, 0.4, 0.6], np.float32)  # hue 11/12, saturation 0.5
    x = jnp.asarray(np.broadcast_to(pixel, (2, 2, 3)))
    h0 = colorsys.rgb_to_hsv(*pixel.astype(np.float64))[0]
    out = np.asarray(
        jax.jit(jax.vmap(lambda k: augment.random_hue(k, x, 0.4)))(KEYS)[:, 0, 0]
    )
    hues = np.array([colorsys.rgb_to_hsv(*p.astype(np.float64))[0] for p in out])
    _ks_uniform((hues - h0 + 0.5) % 1.0 - 0.5, -0.4, 0.4)
    out = np.asarray(
        jax.jit(jax.vmap(lambda k: augment.random_saturation(k, x, 0.2, 1.8)))(KEYS)[
            :, 0, 0
        ]
    )
    sats = np.array([colorsys.rgb_to_hsv(*p.astype(np.float64))[1] for p in out])
    _ks_uniform(sats / 0.5, 0.2, 1.8)


def test_gaussian_noise_has_the_requested_std() -> None:
    std, x = 0.05, jnp.full((32, 32, 3), 0.5, jnp.float32)
    noisy = jax.jit(jax.vmap(lambda k: augment.gaussian_noise(k, x, std)))(
        jax.random.split(KEY, 4)
    )
    assert len({np.asarray(b).tobytes() for b in noisy}) == 4  # per-key noise
    noise = np.asarray(noisy[0], np.float64) - 0.5
    n = noise.size
    assert abs(noise.mean()) < 4 * std / np.sqrt(n)
    assert abs(noise.std() - std) < 4 * std / np.sqrt(2 * n)


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", UINT8_OK)
def test_uint8_matches_float_result_times_255(name: str) -> None:
    out = _run(name, IMAGE_U8)
    assert out.dtype == jnp.uint8
    expected = np.round(
        np.asarray(_run(name, IMAGE_U8.astype(np.float32) / 255), np.float64) * 255
    )
    assert np.max(np.abs(np.asarray(out, np.int64) - expected)) <= 1


def test_uint8_saturates_at_0_and_255() -> None:
    x = jnp.asarray(IMAGE_U8)
    np.testing.assert_array_equal(
        augment.adjust_brightness(x, 1.0), np.full(x.shape, 255)
    )
    np.testing.assert_array_equal(augment.adjust_brightness(x, -1.0), np.zeros(x.shape))
    high = augment.adjust_contrast(x, 10.0)
    assert int(high.min()) == 0 and int(high.max()) == 255
    noisy = augment.gaussian_noise(KEY, x, 1.0)
    assert (
        noisy.dtype == jnp.uint8 and int(noisy.min()) == 0 and int(noisy.max()) == 255
    )


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_float_dtype_is_kept_under_x64(name: str, dtype: Any) -> None:
    out = _run(name, jnp.asarray(IMAGE, dtype))
    assert out.dtype == dtype
    assert out.shape == IMAGE.shape
    if name != "normalize":
        assert bool(jnp.all((out >= 0) & (out <= 1)))


# ---------------------------------------------------------------- jit


@pytest.mark.parametrize("name", ALL)
def test_traced_once_per_input_shape(name: str) -> None:
    op, values = OPS[name]
    traces = 0

    def body(key: jax.Array, image: jax.Array, p: Any) -> jax.Array:
        nonlocal traces
        traces += 1
        return op(key, image, p)

    fn = jax.jit(body)
    x = jnp.asarray(IMAGE)
    outs = [fn(jax.random.key(i), x, p) for i, p in enumerate(values)]
    assert traces == 1
    np.testing.assert_allclose(outs[1], op(jax.random.key(1), x, values[1]), atol=1e-6)
    fn(KEY, x[:4, :4], values[0])
    assert traces == 2


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ALL)
def test_a_batch_is_rejected_with_its_shape(name: str) -> None:
    with pytest.raises(ValueError, match=r"got shape \(2, 8, 8, 3\)"):
        _run(name, np.stack([IMAGE, IMAGE]))


@pytest.mark.parametrize("name", RGB_ONLY)
def test_hsv_ops_need_rgb(name: str) -> None:
    with pytest.raises(ValueError, match=r"RGB.*\(8, 8, 4\)"):
        _run(name, np.zeros((8, 8, 4), np.float32))


X = jnp.asarray(IMAGE)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: augment.random_brightness(KEY, X, -0.1),
            r"random_brightness: max_delta .*got -0.1",
        ),
        (
            lambda: augment.adjust_brightness(X, float("nan")),
            r"adjust_brightness: delta",
        ),
        (
            lambda: augment.adjust_contrast(X, -1.0),
            r"adjust_contrast: factor .*got -1.0",
        ),
        (
            lambda: augment.random_contrast(KEY, X, 1.5, 0.5),
            r"lower must be <= upper.*lower=1.5",
        ),
        (
            lambda: augment.random_contrast(KEY, X, -0.5, 0.5),
            r"random_contrast: lower .*got -0.5",
        ),
        (
            lambda: augment.adjust_gamma(X, 0.0),
            r"adjust_gamma: gamma must be in \(0, inf[\])]",
        ),
        (lambda: augment.adjust_gamma(X, -2.0), r"adjust_gamma: gamma"),
        (lambda: augment.adjust_gamma(X, 1.0, -1.0), r"adjust_gamma: gain"),
        (lambda: augment.random_gamma(KEY, X, 0.0, 1.0), r"random_gamma: min_gamma"),
        (
            lambda: augment.random_gamma(KEY, X, 2.0, 1.0),
            r"min_gamma must be <= max_gamma",
        ),
        (
            lambda: augment.gaussian_noise(KEY, X, -0.01),
            r"gaussian_noise: std .*got -0.01",
        ),
        (lambda: augment.normalize(X, 0.5, 0.0), r"normalize: std must be > 0"),
        (
            lambda: augment.normalize(X, 0.5, (0.2, -0.2, 0.2)),
            r"normalize: std must be > 0",
        ),
        (
            lambda: augment.normalize(X, (0.5, 0.5), 0.2),
            r"mean .*\(3,\).*got shape \(2,\)",
        ),
        (lambda: augment.adjust_saturation(X, -0.5), r"adjust_saturation: factor"),
        (
            lambda: augment.random_saturation(KEY, X, 2.0, 1.0),
            r"lower must be <= upper",
        ),
        (
            lambda: augment.adjust_hue(X, 0.7),
            r"adjust_hue: delta must be in \[-0.5, 0.5\]",
        ),
        (
            lambda: augment.random_hue(KEY, X, 0.6),
            r"random_hue: max_delta must be in \[0, 0.5\]",
        ),
        (lambda: augment.random_hue(KEY, X, -0.1), r"random_hue: max_delta"),
    ],
)
def test_bad_hyperparameters_name_the_argument(
    call: Callable[[], Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors() -> None:
    with pytest.raises(TypeError, match=r"normalize: image has dtype uint8.*astype"):
        augment.normalize(jnp.asarray(IMAGE_U8), 0.5, 0.25)
    with pytest.raises(TypeError, match=r"random_brightness: key must be a PRNG key"):
        augment.random_brightness(0, X, 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"adjust_contrast: factor must be a number"):
        augment.adjust_contrast(X, "high")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"image has dtype int32"):
        augment.adjust_brightness(jnp.zeros((2, 2, 3), jnp.int32), 0.1)
