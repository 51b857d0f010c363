"""Geometric augmentations: exact identities, NumPy references and dm-pix parity."""

from __future__ import annotations

import dm_pix
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage, stats

from gradtx import augment

RNG = np.random.default_rng(0)
IMAGE = jnp.asarray(RNG.uniform(size=(8, 8, 3)), jnp.float32)
WIDE = jnp.asarray(RNG.uniform(size=(6, 10, 2)), jnp.float32)
UINT8 = jnp.asarray(RNG.integers(0, 256, size=(8, 8, 3)), jnp.uint8)
KEY = jax.random.key(0)


@pytest.mark.parametrize("image", [IMAGE, WIDE, UINT8])
def test_flips_are_involutions_and_match_numpy(image: jax.Array) -> None:
    lr, ud = augment.flip_left_right(image), augment.flip_up_down(image)
    np.testing.assert_array_equal(lr, np.asarray(image)[:, ::-1])
    np.testing.assert_array_equal(ud, np.asarray(image)[::-1])
    np.testing.assert_array_equal(augment.flip_left_right(lr), image)
    np.testing.assert_array_equal(augment.flip_up_down(ud), image)
    np.testing.assert_array_equal(lr, dm_pix.flip_left_right(image))
    np.testing.assert_array_equal(ud, dm_pix.flip_up_down(image))


@pytest.mark.parametrize("k", [-1, 1, 2, 3])
def test_rot90_matches_numpy_and_dm_pix(k: int) -> None:
    ours = augment.rot90(WIDE, k)
    np.testing.assert_array_equal(ours, np.rot90(np.asarray(WIDE), k, axes=(0, 1)))
    np.testing.assert_array_equal(ours, dm_pix.rot90(WIDE, k))


def test_random_flips_match_dm_pix_for_the_same_key() -> None:
    for i in range(4):
        k = jax.random.key(i)
        np.testing.assert_array_equal(
            augment.random_flip_left_right(k, IMAGE),
            dm_pix.random_flip_left_right(k, IMAGE),
        )
        np.testing.assert_array_equal(
            augment.random_flip_up_down(k, IMAGE, p=0.3),
            dm_pix.random_flip_up_down(k, IMAGE, probability=0.3),
        )


def test_per_example_flips_in_a_batch_are_binomial() -> None:
    # 256 identical images: each must draw its own coin.
    images = jnp.tile(IMAGE[None], (256, 1, 1, 1))
    out = augment.batch(augment.random_flip_left_right)(KEY, images)
    flipped = np.asarray(
        jnp.all(out == augment.flip_left_right(IMAGE)[None], axis=(1, 2, 3))
    )
    kept = np.asarray(jnp.all(out == IMAGE[None], axis=(1, 2, 3)))
    assert np.all(flipped ^ kept)  # each image is one or the other
    # Binomial(256, 0.5): mean 128, sd 8; 5 sd either side.
    assert 88 <= flipped.sum() <= 168, flipped.sum()
    assert stats.binomtest(int(flipped.sum()), 256, 0.5).pvalue > 1e-4


def test_center_crop_and_pad_to_size_match_dm_pix() -> None:
    for h, w in [(4, 5), (6, 10), (3, 3)]:
        np.testing.assert_array_equal(
            augment.center_crop(WIDE, h, w), dm_pix.center_crop(WIDE, h, w)
        )
    for h, w in [(9, 13), (6, 10), (7, 11)]:
        np.testing.assert_array_equal(
            augment.pad_to_size(WIDE, h, w), dm_pix.pad_to_size(WIDE, h, w)
        )
    np.testing.assert_array_equal(
        augment.pad_to_size(WIDE, 9, 13, pad_mode="reflect"),
        dm_pix.pad_to_size(WIDE, 9, 13, mode="reflect"),
    )
    # A uint8 constant fill is on the [0, 1] scale: 0.5 -> 128.
    padded = augment.pad_to_size(UINT8, 10, 10, cval=0.5)
    assert padded.dtype == jnp.uint8 and int(padded[0, 0, 0]) == 128


def test_random_crop_matches_dm_pix_without_padding() -> None:
    keys = jax.random.split(KEY, 5)
    for k in keys:
        np.testing.assert_array_equal(
            augment.random_crop(k, WIDE, (4, 7)), dm_pix.random_crop(k, WIDE, (4, 7, 2))
        )


@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "edge"])
def test_random_crop_is_a_window_of_the_padded_image(pad_mode: str) -> None:
    padded = np.pad(
        np.asarray(IMAGE), ((2, 2), (2, 2), (0, 0)), mode=pad_mode
    )  # the NumPy reference padding
    crops = jax.vmap(
        lambda k: augment.random_crop(k, IMAGE, 8, padding=2, pad_mode=pad_mode)
    )(jax.random.split(KEY, 200))
    offsets = []
    for crop in np.asarray(crops):
        hits = [
            (i, j)
            for i in range(5)
            for j in range(5)
            if np.array_equal(crop, padded[i : i + 8, j : j + 8])
        ]
        assert hits, "a crop is not a window of the padded image"
        offsets.append(hits[0])
    # All 25 windows equally likely: a chi-square test on 200 draws.
    counts = np.zeros(25)
    for i, j in offsets:
        counts[i * 5 + j] += 1
    assert stats.chisquare(counts).pvalue > 1e-4
    assert (counts > 0).sum() >= 20


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "nearest"])
@pytest.mark.parametrize("angle", [0.3, -1.1, 2.5, np.pi / 2])
def test_rotate_matches_dm_pix(order: int, mode: str, angle: float) -> None:
    # Square images: a quarter turn maps pixel centres onto pixel centres (no
    # rounding ties, which non-square images have at odd size differences).
    ours = augment.rotate(IMAGE, angle, order=order, mode=mode, cval=0.25)
    theirs = dm_pix.rotate(IMAGE, angle, order=order, mode=mode, cval=0.25)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_rotate_by_a_quarter_turn_is_rot90() -> None:
    # Bilinear with a whole-pixel map: exact away from rounding noise.
    np.testing.assert_allclose(
        augment.rotate(IMAGE, np.pi / 2), augment.rot90(IMAGE), atol=1e-5
    )
    np.testing.assert_allclose(
        augment.rotate(IMAGE, -np.pi / 2, order=0), augment.rot90(IMAGE, -1), atol=0
    )


def test_rotate_there_and_back_is_close_to_identity_in_the_centre() -> None:
    smooth = jnp.asarray(
        np.sin(np.linspace(0, 2, 16))[:, None, None]
        * np.cos(np.linspace(0, 2, 16))[None, :, None],
        jnp.float32,
    )
    back = augment.rotate(augment.rotate(smooth, 0.4), -0.4)
    np.testing.assert_allclose(back[4:12, 4:12], smooth[4:12, 4:12], atol=0.02)


def test_rotate_modes_against_numpy_index_maps() -> None:
    # A half turn is exact: (r, c) -> (H-1-r, W-1-c), whatever the mode.
    for mode in ["constant", "nearest", "reflect", "wrap"]:
        np.testing.assert_allclose(
            augment.rotate(WIDE, np.pi, mode=mode),
            np.asarray(WIDE)[::-1, ::-1],
            atol=1e-5,
        )


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize(
    ("mode", "scipy_mode"),
    [("nearest", "nearest"), ("reflect", "reflect"), ("wrap", "grid-wrap")],
)
def test_rotate_border_modes_match_scipy(
    order: int, mode: str, scipy_mode: str
) -> None:
    # The pull map written out in NumPy, sampled by scipy.ndimage: a 0.7 rad
    # turn of a wide image reads far outside it, so every mode matters.
    h, w = WIDE.shape[:2]
    rows, cols = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2,
                             indexing="ij")  # fmt: skip
    cos, sin = np.cos(0.7), np.sin(0.7)
    src = np.stack([cos * rows + sin * cols + (h - 1) / 2,
                    -sin * rows + cos * cols + (w - 1) / 2])  # fmt: skip
    ref = np.stack(
        [
            ndimage.map_coordinates(
                np.asarray(WIDE, np.float64)[..., ch], src, order=order, mode=scipy_mode
            )
            for ch in range(WIDE.shape[2])
        ],
        axis=-1,
    )
    ours = augment.rotate(WIDE, 0.7, order=order, mode=mode)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_random_affine_without_randomness_is_the_identity() -> None:
    np.testing.assert_allclose(augment.random_affine(KEY, IMAGE), IMAGE, atol=1e-6)


def test_random_affine_zoom_and_translation_against_numpy() -> None:
    # Zoom s about the centre: output (r, c) samples input c + (o - c) / s.
    zoomed = augment.random_affine(KEY, IMAGE, scale=(2.0, 2.0), order=0)
    c = 3.5
    src = np.floor(c + (np.arange(8) - c) / 2 + 0.5).astype(int)
    np.testing.assert_array_equal(zoomed, np.asarray(IMAGE)[src][:, src])


def test_random_rotation_angles_are_uniform() -> None:
    # Recover the angle from where a rotated unit vector lands: rotate a
    # ramp and read the angle from the pull matrix's effect at two points.
    from gradtx.augment._resample import AFFINE_STAGES

    _, builder = AFFINE_STAGES[augment.random_rotation]
    angles = jax.vmap(lambda k: builder(k, IMAGE.shape, 0.5)[0])(
        jax.random.split(KEY, 2000)
    )
    theta = np.arctan2(np.asarray(angles[:, 0, 1]), np.asarray(angles[:, 0, 0]))
    assert stats.kstest(theta, stats.uniform(-0.5, 1.0).cdf).pvalue > 1e-3


def test_uint8_and_bfloat16_keep_their_dtype() -> None:
    for image in (UINT8, IMAGE.astype(jnp.bfloat16)):
        for out in (
            augment.rotate(image, 0.3),
            augment.random_affine(KEY, image, max_angle=0.2),
            augment.random_crop(KEY, image, 6, padding=1),
        ):
            assert out.dtype == image.dtype
    # uint8 bilinear equals the float result on the 0..255 scale, rounded.
    ref = augment.rotate(UINT8.astype(jnp.float32) / 255, 0.3) * 255
    got = augment.rotate(UINT8, 0.3).astype(jnp.float32)
    assert float(jnp.max(jnp.abs(got - ref))) <= 0.5 + 1e-3


def test_each_function_compiles_once_per_shape() -> None:
    traces: list[int] = []

    @jax.jit
    def step(key: jax.Array, image: jax.Array, angle: jax.Array) -> jax.Array:
        traces.append(1)
        image = augment.random_crop(key, image, 8, padding=2)
        image = augment.random_flip_left_right(key, image)
        image = augment.rotate(image, angle)
        return augment.random_affine(key, image, max_angle=0.1, scale=(0.9, 1.1))

    for i in range(3):
        step(jax.random.key(i), IMAGE + i, jnp.float32(0.1 * i))
    assert len(traces) == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: augment.flip_left_right(IMAGE[None]), ValueError, "batch"),
        (lambda: augment.rotate(IMAGE[..., 0], 0.1), ValueError, "shape"),
        (lambda: augment.random_crop(KEY, IMAGE, 13, padding=2), ValueError, "larger"),
        (lambda: augment.random_crop(KEY, IMAGE, 4, padding=-1), ValueError, "padding"),
        (lambda: augment.random_crop(KEY, IMAGE, 0), ValueError, "size"),
        (
            lambda: augment.random_crop(KEY, IMAGE, 4, pad_mode="x"),
            ValueError,
            "pad_mode",
        ),
        (lambda: augment.random_flip_left_right(KEY, IMAGE, -0.1), ValueError, "p"),
        (lambda: augment.random_rotation(KEY, IMAGE, -0.1), ValueError, "max_angle"),
        (lambda: augment.rotate(IMAGE, 0.1, order=3), ValueError, "order"),
        (lambda: augment.rotate(IMAGE, 0.1, mode="x"), ValueError, "mode"),
        (
            lambda: augment.random_affine(KEY, IMAGE, scale=(0.0, 1.0)),
            ValueError,
            "scale",
        ),
        (lambda: augment.center_crop(IMAGE, 9, 2), ValueError, "larger"),
        (lambda: augment.pad_to_size(IMAGE, 4, 9), ValueError, "smaller"),
        (lambda: augment.random_crop(0, IMAGE, 4), TypeError, "key"),
        (lambda: augment.rotate(IMAGE.astype(jnp.int32), 0.1), TypeError, "uint8"),
    ],
)
def test_bad_input(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
