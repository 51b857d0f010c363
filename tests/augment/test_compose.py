"""chain (key splitting, resampling fusion), random_apply, random_choice, batch."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from gradtx import augment
from gradtx.augment._resample import AFFINE_STAGES

RNG = np.random.default_rng(1)
IMAGE = jnp.asarray(RNG.uniform(size=(8, 8, 3)), jnp.float32)
KEY = jax.random.key(0)
crop = functools.partial(augment.random_crop, size=8, padding=2)
rotation = functools.partial(augment.random_rotation, max_angle=0.5)


def test_chain_splits_the_key_once_per_stage() -> None:
    k1, k2, k3 = jax.random.split(KEY, 3)
    expected = augment.flip_up_down(augment.random_flip_left_right(k2, crop(k1, IMAGE)))
    got = augment.chain(crop, augment.random_flip_left_right, augment.flip_up_down)(
        KEY, IMAGE
    )
    np.testing.assert_array_equal(got, expected)
    del k3


def _angle(key: jax.Array) -> float:
    a, _ = AFFINE_STAGES[augment.random_rotation][1](key, IMAGE.shape, 0.5)
    return float(np.arctan2(a[0, 1], a[0, 0]))


def test_fused_rotations_resample_once() -> None:
    smooth = jnp.asarray(
        np.sin(np.linspace(0, 3, 16))[:, None, None]
        * np.cos(np.linspace(0, 3, 16))[None, :, None],
        jnp.float32,
    )
    k1, k2 = jax.random.split(KEY, 2)
    one_resampling = augment.rotate(smooth, _angle(k1) + _angle(k2))
    fused = augment.chain(rotation, rotation)(KEY, smooth)
    unfused = augment.chain(rotation, rotation, fuse=False)(KEY, smooth)
    # Fused: exactly one interpolation by the summed angle.
    np.testing.assert_allclose(fused, one_resampling, atol=1e-5)
    # Unfused: the same draws, but interpolated twice (blurred): further from
    # the single resampling, and less sharp (lower mean gradient energy).
    err = float(jnp.max(jnp.abs(unfused - one_resampling)[4:12, 4:12]))
    assert err > 1e-3, err
    assert (
        float(jnp.mean(unfused[4:12, 4:12] ** 2))
        < float(jnp.mean(fused[4:12, 4:12] ** 2)) + 1e-6
    )


def test_fusion_composes_affine_maps_in_order() -> None:
    # rotate then zoom 2x (nearest) equals the zoom of the rotation's pull map.
    zoom = functools.partial(augment.random_affine, scale=(2.0, 2.0), order=0)
    turn = functools.partial(augment.rotate, angle=np.pi / 2, order=0)
    fused = augment.chain(turn, zoom)(KEY, IMAGE)
    unfused = augment.chain(turn, zoom, fuse=False)(KEY, IMAGE)
    # Both maps send pixel centres to pixel centres here: fusing changes nothing.
    np.testing.assert_array_equal(fused, unfused)
    # Different resampling arguments are never fused (each keeps its own).
    mixed = augment.chain(turn, functools.partial(zoom, mode="nearest"))(KEY, IMAGE)
    np.testing.assert_array_equal(
        mixed,
        augment.chain(turn, functools.partial(zoom, mode="nearest"), fuse=False)(
            KEY, IMAGE
        ),
    )


def test_fused_stages_keep_their_argument_checks() -> None:
    bad = functools.partial(augment.random_rotation, max_angle=-1.0)
    with pytest.raises(ValueError, match="max_angle"):
        augment.chain(rotation, bad)(KEY, IMAGE)


def test_random_apply_applies_with_probability_p() -> None:
    flip = augment.random_apply(augment.flip_left_right, p=0.3)
    out = jax.vmap(flip, (0, None))(jax.random.split(KEY, 1000), IMAGE)
    flipped = np.asarray(
        jnp.all(out == augment.flip_left_right(IMAGE)[None], axis=(1, 2, 3))
    )
    kept = np.asarray(jnp.all(out == IMAGE[None], axis=(1, 2, 3)))
    assert np.all(flipped ^ kept)
    assert stats.binomtest(int(flipped.sum()), 1000, 0.3).pvalue > 1e-4
    never = augment.random_apply(augment.flip_left_right, p=0.0)
    np.testing.assert_array_equal(never(KEY, IMAGE), IMAGE)


def test_random_choice_follows_its_weights() -> None:
    cands = [augment.flip_left_right, augment.flip_up_down, functools.partial(
        augment.rot90, k=2)]  # fmt: skip
    pick = augment.random_choice(*cands, p=[0.2, 0.3, 0.5])
    out = jax.vmap(pick, (0, None))(jax.random.split(KEY, 1000), IMAGE)
    refs = [c(IMAGE) for c in cands]
    which = np.stack(
        [np.asarray(jnp.all(out == r[None], axis=(1, 2, 3))) for r in refs]
    )
    assert np.all(which.sum(axis=0) == 1)
    assert stats.chisquare(which.sum(axis=1), [200, 300, 500]).pvalue > 1e-4


def test_batch_draws_per_image_and_maps_deterministic_functions() -> None:
    images = jnp.tile(IMAGE[None], (16, 1, 1, 1))
    cropped = augment.batch(crop)(KEY, images)
    distinct = {np.asarray(c).tobytes() for c in cropped}
    assert len(distinct) > 4  # 25 windows: 16 identical crops would be a bug
    keys = jax.random.split(KEY, 16)
    np.testing.assert_array_equal(cropped[3], crop(keys[3], IMAGE))
    flipped = augment.batch(augment.flip_left_right)(KEY, images)
    np.testing.assert_array_equal(flipped, images[:, :, ::-1])


def test_five_stage_chain_in_a_jitted_training_step() -> None:
    aug = augment.batch(
        augment.chain(
            crop,
            augment.random_flip_left_right,
            functools.partial(augment.random_brightness, max_delta=0.1),
            functools.partial(augment.random_contrast, lower=0.8, upper=1.2),
            rotation,
        )
    )
    images = jnp.asarray(RNG.uniform(size=(16, 8, 8, 3)), jnp.float32)
    labels = jnp.asarray(RNG.integers(0, 2, size=16), jnp.float32)
    traces: list[int] = []

    @jax.jit
    def step(w: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        traces.append(1)
        x = aug(key, images).reshape(16, -1)

        def loss(w: jax.Array) -> jax.Array:
            return jnp.mean((x @ w - labels) ** 2)

        value, grad = jax.value_and_grad(loss)(w)
        return w - 0.01 * grad, value

    w = jnp.zeros(8 * 8 * 3, jnp.float32)
    losses = []
    for i in range(3):
        w, value = step(w, jax.random.key(i))
        losses.append(float(value))
    assert len(traces) == 1
    assert losses[-1] < losses[0]
    # The jitted pipeline is the eager one.
    np.testing.assert_allclose(
        jax.jit(aug)(KEY, images), aug(KEY, images), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: augment.chain(), ValueError, "at least one"),
        (lambda: augment.chain(crop, 3), TypeError, "not a function"),
        (lambda: augment.random_apply(crop, p=1.5), ValueError, "p"),
        (lambda: augment.random_choice(crop, crop, p=[0.5]), ValueError, "p must"),
        (lambda: augment.random_choice(crop, crop, p=[1.5, -0.5]), ValueError, "p"),
        (lambda: augment.batch(crop)(KEY, IMAGE), ValueError, "batch"),
        (lambda: augment.chain(crop)(IMAGE, IMAGE), TypeError, "key"),
    ],
)
def test_bad_input(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
