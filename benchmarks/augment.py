"""Images per second of a jitted augmentation pipeline: gradtx against dm-pix.

The pipeline of the augmentation issue, on a batch of 256 32x32x3 float32
images, one random draw per image: pad 4 and random crop 32, random
left-right flip, random brightness (max delta 0.2), random contrast (0.8 to
1.2) and random rotation (up to 15 degrees, bilinear). gradtx's is
``jit(batch(chain(...)))``; dm-pix's is ``jit(vmap(...))`` of its own
functions with the same parameters, and a clip to [0, 1] after the
photometric stages (gradtx clips there: both keep the images in range).

A second table measures resampling fusion in ``chain``: a random rotation
followed by a random zoom, fused into one interpolation or done as two, with
the speed and the sharpness (high-frequency energy kept, relative to the
input) of each.

    python benchmarks/augment.py                 # ~1 min on 2 CPU cores
    python benchmarks/augment.py --rounds 10 --repeats 20
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
from collections.abc import Callable

import dm_pix
import jax
import jax.numpy as jnp
import numpy as np

from gradtx import augment

Pipeline = Callable[[jax.Array, jax.Array], jax.Array]
MAX_ANGLE = float(np.deg2rad(15.0))


def gradtx_pipeline() -> Pipeline:
    return jax.jit(
        augment.batch(
            augment.chain(
                functools.partial(augment.random_crop, size=32, padding=4),
                augment.random_flip_left_right,
                functools.partial(augment.random_brightness, max_delta=0.2),
                functools.partial(augment.random_contrast, lower=0.8, upper=1.2),
                functools.partial(augment.random_rotation, max_angle=MAX_ANGLE),
            )
        )
    )


def dm_pix_pipeline() -> Pipeline:
    def one(key: jax.Array, image: jax.Array) -> jax.Array:
        k_crop, k_flip, k_bright, k_contrast, k_angle = jax.random.split(key, 5)
        image = jnp.pad(image, ((4, 4), (4, 4), (0, 0)))
        image = dm_pix.random_crop(k_crop, image, (32, 32, 3))
        image = dm_pix.random_flip_left_right(k_flip, image)
        image = jnp.clip(dm_pix.random_brightness(k_bright, image, 0.2), 0.0, 1.0)
        image = dm_pix.random_contrast(k_contrast, image, 0.8, 1.2)
        image = jnp.clip(image, 0.0, 1.0)
        angle = jax.random.uniform(k_angle, (), jnp.float32, -MAX_ANGLE, MAX_ANGLE)
        return dm_pix.rotate(image, angle, mode="constant")

    def pipeline(key: jax.Array, images: jax.Array) -> jax.Array:
        return jax.vmap(one)(jax.random.split(key, images.shape[0]), images)

    return jax.jit(pipeline)


def fusion_pipelines() -> tuple[Pipeline, Pipeline]:
    stages = (
        functools.partial(augment.random_rotation, max_angle=MAX_ANGLE),
        functools.partial(augment.random_affine, scale=(0.9, 1.1)),
    )
    fused = jax.jit(augment.batch(augment.chain(*stages)))
    unfused = jax.jit(augment.batch(augment.chain(*stages, fuse=False)))
    return fused, unfused


def time_pairs(
    runs: dict[str, Pipeline], images: jax.Array, rounds: int, repeats: int
) -> dict[str, list[float]]:
    """Seconds per call of each pipeline, interleaved run by run in each round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():  # compile and warm up
        run(jax.random.key(0), images).block_until_ready()
    for r in range(rounds):
        for name, run in runs.items():
            for i in range(repeats):
                key = jax.random.key(r * repeats + i)
                start = time.perf_counter()
                run(key, images).block_until_ready()
                times[name].append(time.perf_counter() - start)
    return times


def paired_ratio(a: list[float], b: list[float], repeats: int) -> float:
    """Median over rounds of the ratio of the two medians within the round."""
    return statistics.median(
        statistics.median(a[i : i + repeats]) / statistics.median(b[i : i + repeats])
        for i in range(0, len(a), repeats)
    )


def high_frequency(images: jax.Array) -> float:
    """Mean squared discrete Laplacian over the interior: the fine detail kept."""
    x = images[:, 4:-4, 4:-4]
    lap = (
        images[:, 3:-5, 4:-4]
        + images[:, 5:-3, 4:-4]
        + images[:, 4:-4, 3:-5]
        + images[:, 4:-4, 5:-3]
        - 4 * x
    )
    return float(jnp.mean(lap * lap))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    images = jnp.asarray(rng.uniform(size=(args.batch, 32, 32, 3)), jnp.float32)
    n = args.batch

    print(
        f"# augment.py: batch {n} x 32x32x3 float32 | jax {jax.__version__}, "
        f"dm-pix {dm_pix.__version__} | {jax.devices()[0].device_kind} | "
        f"{platform.processor() or platform.machine()}\n"
    )
    times = time_pairs(
        {"gradtx": gradtx_pipeline(), "dm-pix": dm_pix_pipeline()},
        images,
        args.rounds,
        args.repeats,
    )
    ratio = paired_ratio(times["gradtx"], times["dm-pix"], args.repeats)
    print("| pipeline | images/s | time / dm-pix's |")
    print("|---|---|---|")
    for name, ts in times.items():
        rate = n / statistics.median(ts)
        rel = f"{ratio:.2f}" if name == "gradtx" else "1"
        print(
            f"| {name}: crop+flip+brightness+contrast+rotation | {rate:,.0f} | {rel} |"
        )

    fused, unfused = fusion_pipelines()
    times = time_pairs(
        {"fused": fused, "unfused": unfused}, images, args.rounds, args.repeats
    )
    ratio = paired_ratio(times["fused"], times["unfused"], args.repeats)
    # Sharpness on smooth-but-detailed images (random noise has no structure
    # for interpolation to preserve; a sum of sinusoids does).
    yy, xx = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    pattern = 0.5 + 0.25 * np.sin(0.9 * xx + 0.4 * yy) * np.cos(0.7 * yy - 0.3 * xx)
    smooth = jnp.asarray(np.tile(pattern[None, ..., None], (n, 1, 1, 3)), jnp.float32)
    detail_in = high_frequency(smooth)
    key = jax.random.key(123)
    print(
        "\n| rotation then zoom in `chain` | images/s | time / unfused | detail kept |"
    )
    print("|---|---|---|---|")
    for name, run in (("fused (one resampling)", fused), ("unfused (two)", unfused)):
        ts = times[name.split()[0]]
        rel = f"{ratio:.2f}" if name.startswith("fused") else "1"
        kept = high_frequency(run(key, smooth)) / detail_in
        print(f"| {name} | {n / statistics.median(ts):,.0f} | {rel} | {kept:.3f} |")


if __name__ == "__main__":
    main()
