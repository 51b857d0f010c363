"""cutout, mixup and cutmix against closed forms, distributions and properties.

Images are tiny (8x8) and the randomness is checked over thousands of keys at
once with ``jax.vmap``. Expected values come from closed forms (the hit
frequency of a uniformly placed square, the Beta distribution, the area of a
clipped box) or from properties of the output, never from the code under test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from gradtx.augment import cutmix, cutout, mixup

H = W = 8
N = 8  # batch size for mixup / cutmix
P_MIN = 1e-3  # significance level of the statistical tests


# Compiled once per shape: eager calls would compile every primitive on its own.
CUTOUT = jax.jit(cutout, static_argnums=2)
MIXUP = jax.jit(mixup, static_argnames="num_classes")
CUTMIX = jax.jit(cutmix, static_argnames="num_classes")


def _keys(n: int, seed: int = 0) -> jax.Array:
    return jax.random.split(jax.random.key(seed), n)


def _over_keys(fn: Callable[[jax.Array], Any], keys: jax.Array) -> Any:
    """``fn`` of every key, vmapped and compiled once."""
    return jax.jit(jax.vmap(fn))(keys)


def _rectangle(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of ``mask``, asserting it is one filled box."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    assert rows.size and cols.size, "empty mask"
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = np.zeros_like(mask)
    box[top:bottom, left:right] = True
    np.testing.assert_array_equal(mask, box, err_msg="not one filled rectangle")
    return int(top), int(bottom), int(left), int(right)


def _one_hot_batch(h: int = H, w: int = W) -> jax.Array:
    """Image n of the batch is the one-hot vector e_n at every pixel."""
    return jnp.broadcast_to(
        jnp.eye(N, dtype=jnp.float32)[:, None, None, :], (N, h, w, N)
    )


# --- cutout -----------------------------------------------------------------


def test_cutout_erases_one_clipped_rectangle_and_keeps_the_rest() -> None:
    image = jax.random.uniform(jax.random.key(1), (H, W, 3), jnp.float32, 0.1, 0.9)
    size, cval = (3, 5), 0.25
    outs = np.asarray(
        _over_keys(lambda k: cutout(k, image, size, cval=cval), _keys(300))
    )
    img = np.asarray(image)
    boxes = set()
    for out in outs:
        changed = (out != img).any(axis=-1)
        top, bottom, left, right = _rectangle(changed)
        boxes.add((top, bottom, left, right))
        assert (out[changed] == np.float32(cval)).all()
        np.testing.assert_array_equal(out[~changed], img[~changed])
        # The patch is the (3, 5) box; a side is shorter only at the border.
        assert bottom - top <= 3 and right - left <= 5
        assert bottom - top == 3 or top == 0 or bottom == H
        assert right - left == 5 or left == 0 or right == W
    assert len(boxes) > 20  # the key moves the patch


def test_cutout_centre_is_uniform_over_pixels() -> None:
    # A 1x1 patch is its centre: its position must be uniform over the 64 pixels.
    n = 6400
    image = jnp.ones((H, W, 1), jnp.float32)
    outs = _over_keys(lambda k: cutout(k, image, 1), _keys(n, seed=2))
    erased = np.asarray(outs[..., 0] == 0)
    assert (erased.sum(axis=(1, 2)) == 1).all()
    counts = erased.sum(axis=0).ravel()
    assert scipy.stats.chisquare(counts).pvalue > P_MIN


def test_cutout_hit_frequency_follows_the_clipped_square() -> None:
    # A 3x3 square centred on a uniform pixel covers row i iff the centre row
    # is in {i-1, i, i+1} ∩ [0, H): 2 choices at the border, 3 inside.
    n, side = 4000, 3
    image = jnp.ones((H, W, 1), jnp.float32)
    outs = _over_keys(lambda k: cutout(k, image, side), _keys(n, seed=3))
    freq = np.asarray(outs[..., 0] == 0).mean(axis=0)
    i = np.arange(H)
    rows = np.minimum(i + side // 2, H - 1) - np.maximum(i - side // 2, 0) + 1
    expected = np.outer(rows, rows) / (H * W)
    assert expected[0, 0] == 4 / 64 and expected[3, 3] == 9 / 64
    sigma = np.sqrt(expected * (1 - expected) / n)
    np.testing.assert_array_less(np.abs(freq - expected), 5 * sigma)
    assert freq[2:6, 2:6].mean() > freq[[0, 0, -1, -1], [0, -1, 0, -1]].mean() + 0.04


def test_cutout_uint8_stays_uint8_and_scales_cval() -> None:
    image = jax.random.randint(jax.random.key(4), (H, W, 3), 10, 120, jnp.int32)
    image = image.astype(jnp.uint8)
    outs = np.asarray(_over_keys(lambda k: cutout(k, image, 4, cval=0.5), _keys(50)))
    assert outs.dtype == np.uint8
    img = np.asarray(image)
    for out in outs:
        changed = (out != img).any(axis=-1)
        _rectangle(changed)
        assert (out[changed] == 128).all()  # round(0.5 * 255)


def test_cutout_keeps_float64_bit_exact() -> None:
    image = jnp.linspace(0.0, 1.0, H * W * 2, dtype=jnp.float64).reshape(H, W, 2)
    out = CUTOUT(jax.random.key(5), image, 2, cval=0.3)
    assert out.dtype == jnp.float64
    assert np.asarray(out == 0.3).all(axis=-1).sum() >= 1


# --- mixup ------------------------------------------------------------------


# One compilation for every alpha (traced) and number of keys of a test.
_MIXUP_ONE_HOT = jax.jit(
    jax.vmap(
        lambda k, a: mixup(k, _one_hot_batch(1, 1), jnp.eye(N, dtype=jnp.float32), a),
        in_axes=(0, None),
    )
)


def _mixup_lambdas(alpha: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """lambda of each key, recovered from one-hot images, and the outputs.

    Row i of the output is lam * e_i + (1 - lam) * e_partner: its own channel
    holds lam (or 1 if it was paired with itself); over the batch the minimum
    is lam unless the permutation is the identity (probability 1 / 8!).
    """
    x, y = _MIXUP_ONE_HOT(_keys(n, seed), jnp.float32(alpha))
    x = np.asarray(x)[:, :, 0, 0, :]
    np.testing.assert_allclose(np.asarray(y), x, atol=1e-6)  # same combination
    lam = np.diagonal(x, axis1=1, axis2=2).min(axis=1)
    return lam, x


@pytest.mark.parametrize("alpha", [0.2, 1.0])
def test_mixup_lambda_follows_beta(alpha: float) -> None:
    lam, _ = _mixup_lambdas(alpha, 2000, seed=6)
    assert np.isfinite(lam).all() and (lam >= 0).all() and (lam <= 1).all()
    test = scipy.stats.kstest(lam, scipy.stats.beta(alpha, alpha).cdf)
    assert test.pvalue > P_MIN, test


def test_mixup_mixes_each_example_with_one_partner_of_a_permutation() -> None:
    lam, x = _mixup_lambdas(1.0, 2000, seed=7)
    eye = np.eye(N)
    np.testing.assert_allclose(x.sum(axis=2), 1.0, atol=1e-6)
    rest = x - lam[:, None, None] * eye  # (1 - lam) * e_partner
    assert (rest > -1e-6).all()
    weight = np.broadcast_to(1 - lam[:, None], (lam.size, N))
    np.testing.assert_allclose(rest.max(axis=2), weight, atol=1e-6)
    np.testing.assert_allclose(rest.sum(axis=2), weight, atol=1e-6)
    clear = (lam > 0.01) & (lam < 0.99)
    partners = rest[clear].argmax(axis=2)
    np.testing.assert_array_equal(
        np.sort(partners, axis=1), np.tile(np.arange(N), (clear.sum(), 1))
    )
    # Example 0's partner is uniform over the batch (itself included).
    counts = np.bincount(partners[:, 0], minlength=N)
    assert scipy.stats.chisquare(counts).pvalue > P_MIN


def test_mixup_int_labels_equal_one_hot_labels() -> None:
    images = jax.random.uniform(jax.random.key(8), (N, 6, 6, 1), jnp.float32)
    ints = jnp.arange(N, dtype=jnp.int32) % 5
    key = jax.random.key(9)
    x_int, y_int = MIXUP(key, images, ints, 0.4, num_classes=5)
    x_hot, y_hot = MIXUP(key, images, jax.nn.one_hot(ints, 5, dtype=jnp.float32), 0.4)
    np.testing.assert_array_equal(x_int, x_hot)
    np.testing.assert_array_equal(y_int, y_hot)
    assert y_int.dtype == jnp.float32 and y_int.shape == (N, 5)


def test_mixup_soft_labels_and_normalized_images() -> None:
    soft = np.random.default_rng(0).dirichlet(np.ones(4), size=N)  # float64
    # Already normalized images, outside [0, 1]: mixed as they are, not clipped.
    images = jax.random.uniform(jax.random.key(10), (N, 6, 6, 1), jnp.float32, -1, 2)
    x, y = MIXUP(jax.random.key(11), images, jnp.asarray(soft), 0.2)
    assert x.dtype == jnp.float32 and y.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(y).sum(axis=1), 1.0, atol=1e-6)
    x, imgs = np.asarray(x), np.asarray(images)
    assert x.min() < 0 and x.max() > 1
    assert (x >= imgs.min(axis=0) - 1e-6).all() and (x <= imgs.max(axis=0) + 1e-6).all()


def test_mixup_uint8_matches_float_within_rounding() -> None:
    ints = jax.random.randint(jax.random.key(12), (N, 6, 6, 3), 0, 256, jnp.int32)
    images = ints.astype(jnp.uint8)
    labels = jnp.eye(N, dtype=jnp.float32)
    key = jax.random.key(13)
    x8, _ = MIXUP(key, images, labels, 1.0)
    xf, _ = MIXUP(key, images.astype(jnp.float32) / 255, labels, 1.0)
    assert x8.dtype == jnp.uint8
    diff = np.abs(np.asarray(x8, np.float64) - 255 * np.asarray(xf, np.float64))
    assert diff.max() <= 0.5 + 1e-3


# --- cutmix -----------------------------------------------------------------


_CUTMIX_ONE_HOT = jax.jit(
    jax.vmap(lambda k: cutmix(k, _one_hot_batch(), jnp.eye(N, dtype=jnp.float32), 1.0))
)


def _cutmix_outputs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = _CUTMIX_ONE_HOT(_keys(n, seed))
    return np.asarray(x), np.asarray(y)


def test_cutmix_pastes_one_rectangle_and_mixes_labels_by_area() -> None:
    x, y = _cutmix_outputs(300, seed=14)
    eye = np.eye(N)
    # Every pixel is some image's pixel (a one-hot vector, copied not blended).
    assert ((x == 0) | (x == 1)).all() and (x.sum(axis=-1) == 1).all()
    for xs, ys in zip(x, y, strict=True):
        boxes = set()
        for n in range(N):
            source = xs[n].argmax(axis=-1)  # which image each pixel comes from
            others = np.unique(source[source != n])
            assert others.size <= 1  # own pixels or one partner's
            if others.size:
                boxes.add(_rectangle(source != n))
            share = np.bincount(source.ravel(), minlength=N) / (H * W)
            np.testing.assert_allclose(ys[n], share, atol=1e-6)
            assert ys[n] @ eye[n] >= share[n] - 1e-6
        assert len(boxes) <= 1  # one box for the whole batch
    np.testing.assert_allclose(y.sum(axis=2), 1.0, atol=1e-6)


def _clipped_length_probs(side: int, length: int) -> np.ndarray:
    """P(covered length = a), a = 0..length, for a segment of ``side`` pixels
    starting at c - side // 2, c uniform over 0..length-1, clipped to the image.
    """
    c = np.arange(length)
    start = c - side // 2
    covered = np.minimum(start + side, length) - np.maximum(start, 0)
    return np.bincount(np.maximum(covered, 0), minlength=length + 1) / length


def _cutmix_area_probs(alpha: float) -> dict[int, float]:
    """Exact distribution of the pasted area on an 8x8 image.

    side = round(8 sqrt(1 - lam)) equals k when lam lies between
    1 - ((k + 1/2) / 8)^2 and 1 - ((k - 1/2) / 8)^2; given k, the covered
    height and width are independent clipped lengths.
    """
    beta = scipy.stats.beta(alpha, alpha)
    probs: dict[int, float] = {}
    for k in range(H + 1):
        lo = np.clip(1 - ((k + 0.5) / H) ** 2, 0, 1)
        hi = np.clip(1 - ((k - 0.5) / H) ** 2, 0, 1) if k else 1.0
        p_k = beta.cdf(hi) - beta.cdf(lo)
        lengths = _clipped_length_probs(k, H)
        joint = p_k * np.outer(lengths, lengths)
        for a in range(H + 1):
            for b in range(W + 1):
                probs[a * b] = probs.get(a * b, 0.0) + joint[a, b]
    return probs


def test_cutmix_area_and_mean_lambda_follow_the_clipped_box() -> None:
    n = 4000
    _, y = _cutmix_outputs(n, seed=15)
    lam_adj = np.diagonal(y, axis1=1, axis2=2).min(axis=1)  # see _mixup_lambdas
    area = np.rint((1 - lam_adj) * H * W).astype(int)
    np.testing.assert_allclose(area, (1 - lam_adj) * H * W, atol=1e-4)
    probs = _cutmix_area_probs(1.0)
    assert abs(sum(probs.values()) - 1) < 1e-9
    # Chi-square over the areas, bins with fewer than 5 expected merged.
    values = sorted(probs)
    expected = np.array([probs[v] for v in values]) * n
    observed = np.array([(area == v).sum() for v in values])
    assert observed.sum() == n
    small = expected < 5
    assert observed[expected == 0].sum() == 0  # impossible areas never occur
    exp = np.append(expected[~small], expected[small].sum())
    obs = np.append(observed[~small], observed[small].sum())
    exp, obs = exp[exp > 0], obs[exp > 0]
    assert scipy.stats.chisquare(obs, exp).pvalue > P_MIN
    # The mean: clipping shrinks boxes, so E[lam_adj] is about 0.68 (the
    # continuous limit is 1 - (1/2 - 1/5 + 1/48)), above the Beta mean 0.5.
    mean = 1 - sum(v * p for v, p in probs.items()) / (H * W)
    assert abs(mean - (1 - (0.5 - 0.2 + 1 / 48))) < 0.03
    tol = 5 * lam_adj.std() / np.sqrt(n)  # about 0.02
    assert abs(lam_adj.mean() - mean) < tol


def test_cutmix_keeps_uint8_pixels() -> None:
    images = jax.random.randint(jax.random.key(16), (N, 6, 6, 3), 0, 256, jnp.int32)
    images = images.astype(jnp.uint8)
    x, y = CUTMIX(jax.random.key(17), images, jnp.arange(N) % 3, 1.0, num_classes=3)
    assert x.dtype == jnp.uint8 and y.shape == (N, 3) and y.dtype == jnp.float32
    imgs = np.asarray(images)
    for n in range(N):
        same = (np.asarray(x[n]) == imgs[:, None]).all(axis=-1)  # (source, h, w)
        assert same.any(axis=0).all()  # every pixel is some image's, unchanged


# --- jit and errors -----------------------------------------------------------


def _count_traces(fn: Callable[..., Any], *args: Any) -> int:
    traces = 0

    def wrapped(key: jax.Array, *rest: Any) -> Any:
        nonlocal traces
        traces += 1
        return fn(key, *rest)

    jitted = jax.jit(wrapped)
    for key in _keys(3, seed=18):
        jax.block_until_ready(jitted(key, *args))
    return traces


def test_each_function_is_traced_once_per_shape() -> None:
    image = jnp.zeros((H, W, 3), jnp.float32)
    images = jnp.zeros((N, H, W, 3), jnp.float32)
    labels = jnp.arange(N, dtype=jnp.int32)
    alpha = jnp.float32(0.5)  # traced: one trace for every alpha
    assert _count_traces(lambda k, x: cutout(k, x, (2, 3), cval=0.5), image) == 1
    for mix in (mixup, cutmix):
        fn = functools.partial(mix, num_classes=N)
        assert _count_traces(fn, images, labels, alpha) == 1, mix.__name__


K = jax.random.key(0)
X = jnp.zeros((N, H, W, 3), jnp.float32)  # a batch
X1 = X[0]  # one image
Y = jnp.eye(N, dtype=jnp.float32)  # one-hot labels
INTS = jnp.arange(N)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cutout(K, X, 2), ValueError, r"one image.*shape \(8, 8, 8, 3\)"),
        (lambda: cutout(K, X1, 9), ValueError, r"size 9.*larger"),
        (lambda: cutout(K, X1, (2, 9)), ValueError, r"size \(2, 9\).*larger"),
        (lambda: cutout(K, X1, 0), ValueError, r"size must be a positive"),
        (lambda: cutout(K, X1, -2), ValueError, r"size must be a positive"),
        (lambda: cutout(K, X1, 2, cval=2.0), ValueError, r"cval must be in"),
        (lambda: cutout(0, X1, 2), TypeError, r"key must be a PRNG key"),  # type: ignore[arg-type]
        (lambda: mixup(K, X1, Y, 1.0), ValueError, r"images must be a batch"),
        (lambda: cutmix(K, X1, Y, 1.0), ValueError, r"images must be a batch"),
        (lambda: mixup(K, X, Y, 0.0), ValueError, r"alpha must be in \(0"),
        (lambda: cutmix(K, X, Y, -1.0), ValueError, r"alpha must be in \(0"),
        (lambda: mixup(K, X, INTS, 1.0), ValueError, r"num_classes=K"),
        (lambda: cutmix(K, X, INTS, 1.0), ValueError, r"num_classes=K"),
        (lambda: mixup(K, X, Y[:5], 1.0), ValueError, r"labels.*batch of 5"),
        (lambda: cutmix(K, X, INTS[:4], 1.0, num_classes=8), ValueError, r"batch of 4"),
        (lambda: mixup(K, X, Y, 1.0, num_classes=3), ValueError, r"num_classes=3"),
        (lambda: mixup(K, X, Y[:, :, None], 1.0), ValueError, r"shape \(batch, K\)"),
        (lambda: mixup(K, X.astype(jnp.int32), Y, 1.0), TypeError, r"dtype int32"),
    ],
)
def test_errors_name_the_argument(
    call: Callable[[], Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        call()


# --- bad values: concrete ones raise, traced ones give NaN (issue 14) ----------


@pytest.mark.parametrize("mix", [mixup, cutmix])
@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (
            np.array([0, 1, 5, 1, 0, 2, 1, 0]),  # NumPy
            r"labels\[2\] is 5, outside \[0, num_classes\) = \[0, 3\); 1 of 8",
        ),
        (
            jnp.array([0, -1, 1, 2, 3, 0, 1, 2]),  # JAX, outside jit
            r"labels\[1\] is -1, .*; 2 of 8 .* pass labels - 1",
        ),
    ],
)
def test_concrete_out_of_range_labels_raise(
    mix: Callable[..., Any], labels: Any, match: str
) -> None:
    # one_hot would give the example a zero row: its label mass would vanish.
    with pytest.raises(ValueError, match=rf"{mix.__name__}: {match}"):
        mix(K, X, labels, 1.0, num_classes=3)


def test_traced_out_of_range_labels_make_every_row_that_uses_them_nan() -> None:
    # The shapes of test_mixup_int_labels_equal_one_hot_labels (one compilation);
    # image n is 1 at pixel n only, so each mixed image shows its partner.
    images = jnp.eye(N, 36, dtype=jnp.float32).reshape(N, 6, 6, 1)
    good = jnp.arange(N, dtype=jnp.int32) % 5
    bad = good.at[2].set(5).at[6].set(-3)
    key = jax.random.key(20)
    x, y_good = MIXUP(key, images, good, 1.0, num_classes=5)
    _, y_bad = MIXUP(key, images, bad, 1.0, num_classes=5)
    mixed = np.asarray(x).reshape(N, 36)[:, :N]
    partner = np.where(np.eye(N, dtype=bool), -1.0, mixed).argmax(axis=1)
    alone = mixed.max(axis=1) == 1.0  # paired with itself
    partner[alone] = np.flatnonzero(alone)
    uses_bad = np.isin(np.arange(N), [2, 6]) | np.isin(partner, [2, 6])
    assert uses_bad.sum() > 2  # some example is paired with a bad one
    y_bad, y_good = np.asarray(y_bad), np.asarray(y_good)
    assert np.isnan(y_bad[uses_bad]).all()
    np.testing.assert_array_equal(y_bad[~uses_bad], y_good[~uses_bad])
    # A traced non-finite alpha: everything NaN.
    for alpha in (float("nan"), float("inf")):  # traced: arguments of the jit
        x, y = MIXUP(key, images, good, alpha, num_classes=5)
        assert np.isnan(np.asarray(x)).all() and np.isnan(np.asarray(y)).all()


def test_traced_bad_values_in_cutmix_of_uint8_images() -> None:
    # The shapes of test_cutmix_keeps_uint8_pixels: no new compilation.
    images = jax.random.randint(jax.random.key(16), (N, 6, 6, 3), 0, 256, jnp.int32)
    images = images.astype(jnp.uint8)
    good = jnp.arange(N) % 3
    x_good, y_good = CUTMIX(K, images, good, 1.0, num_classes=3)
    x_bad, y_bad = CUTMIX(K, images, good.at[2].set(3), 1.0, num_classes=3)
    np.testing.assert_array_equal(x_bad, x_good)  # labels only
    y_bad, y_good = np.asarray(y_bad), np.asarray(y_good)
    nan_rows = np.isnan(y_bad).any(axis=1)
    assert nan_rows[2] and np.isnan(y_bad[nan_rows]).all()
    np.testing.assert_array_equal(y_bad[~nan_rows], y_good[~nan_rows])
    # alpha: a NaN lambda used to give some box and finite labels.
    x, y = CUTMIX(K, images, good, float("inf"), num_classes=3)
    assert (np.asarray(x) == 0).all()  # uint8 has no NaN: zeros
    assert np.isnan(np.asarray(y)).all()


@pytest.mark.parametrize("mix", [mixup, cutmix])
@pytest.mark.parametrize("alpha", [np.inf, np.nan])
def test_concrete_non_finite_alpha_raises(
    mix: Callable[..., Any], alpha: float
) -> None:
    # Beta(inf, inf) draws NaN: before, mixup gave NaN and cutmix a random box.
    with pytest.raises(ValueError, match=rf"{mix.__name__}: alpha is {alpha}"):
        mix(K, X, Y, alpha)
