"""Composition: chain, random_apply, random_choice and batch."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.augment import _common
from gradtx.augment._resample import AFFINE_STAGES, Affine, resample

__all__ = ["batch", "chain", "random_apply", "random_choice"]

Augmentation = Callable[..., jax.Array]
_RESAMPLING = ("order", "mode", "cval")


def _unwrap(aug: Augmentation) -> tuple[Callable[..., Any], tuple, dict[str, Any]]:
    """(the function, bound positional args, bound keywords) of a partial."""
    if isinstance(aug, functools.partial):
        return aug.func, aug.args, dict(aug.keywords)
    return aug, (), {}


def _takes_key(aug: Augmentation) -> bool:
    """False only for gradtx.augment functions whose first argument is the image."""
    func, args, _ = _unwrap(aug)
    if args or not getattr(func, "__module__", "").startswith("gradtx.augment"):
        return True
    try:
        first = next(iter(inspect.signature(func).parameters))
    except (TypeError, ValueError, StopIteration):
        return True
    return first != "image"


def _call(aug: Augmentation, key: jax.Array, image: jax.Array) -> jax.Array:
    return aug(key, image) if _takes_key(aug) else aug(image)


def _check_stages(fn: str, augs: Sequence[Any]) -> None:
    """The stages of a pipeline: at least one, each a function."""
    if not augs:
        raise validate.error(
            ValueError, fn, "no augmentation given; pass at least one."
        )
    for i, aug in enumerate(augs):
        if not callable(aug):
            raise validate.error(
                TypeError,
                fn,
                f"argument {i} is {aug!r}, not a function; pass augmentations "
                "such as gradtx.augment.random_flip_left_right or "
                "functools.partial(gradtx.augment.random_crop, size=32, padding=4).",
            )


def _affine_stage(
    aug: Augmentation,
) -> tuple[Callable[..., Affine], dict, tuple] | None:
    """For a fusable stage: (its (A, t) builder, its keywords, resampling args)."""
    func, args, keywords = _unwrap(aug)
    if args or func not in AFFINE_STAGES:
        return None
    _, builder = AFFINE_STAGES[func]
    params = inspect.signature(func).parameters
    resampling = tuple(keywords.pop(n, params[n].default) for n in _RESAMPLING)
    return builder, keywords, resampling


def chain(*augs: Augmentation, fuse: bool = True) -> Augmentation:
    """Applies augmentations in order, each with its own key.

    ``chain(a, b, c)(key, image)`` splits ``key`` once into one key per stage
    and applies ``a``, then ``b``, then ``c``. Stages are ``(key, image)``
    functions; gradtx's deterministic ones (``flip_left_right``,
    ``functools.partial(rotate, angle=0.1)``, ...) are called with the image
    alone. Bind arguments with ``functools.partial``.

    With ``fuse=True``, consecutive resampling stages (:func:`rotate`,
    :func:`random_rotation`, :func:`random_affine`, given directly or as a
    ``functools.partial`` with keyword arguments and the same ``order``,
    ``mode`` and ``cval``) are composed into one affine map and interpolated
    once: the same random draws, one resampling instead of several (sharper
    images, less work; see ``benchmarks/augment.py``).

    Args:
      *augs: the stages, applied left to right.
      fuse: compose consecutive resampling stages.

    Returns:
      An augmentation ``(key, image) -> image``.

    Raises:
      ValueError: no stages.
      TypeError: a stage that is not callable.

    Example:
      >>> import functools, jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> aug = augment.chain(
      ...     functools.partial(augment.random_crop, size=8, padding=2),
      ...     augment.random_flip_left_right,
      ...     functools.partial(augment.random_brightness, max_delta=0.1),
      ... )
      >>> aug(jax.random.key(0), jnp.zeros((8, 8, 3))).shape
      (8, 8, 3)
    """
    _check_stages("chain", augs)
    groups: list[list[Augmentation]] = []
    for aug in augs:
        prev = groups[-1][-1] if groups else None
        stage, prev_stage = _affine_stage(aug), prev and _affine_stage(prev)
        if fuse and stage and prev_stage and stage[2] == prev_stage[2]:
            groups[-1].append(aug)
        else:
            groups.append([aug])

    def apply(key: jax.Array, image: jax.Array) -> jax.Array:
        validate.key("chain", "key", key)
        keys = iter(jax.random.split(key, len(augs)))
        for group in groups:
            if len(group) == 1:
                image = _call(group[0], next(keys), image)
                continue
            a, t = jnp.eye(2, dtype=jnp.float32), jnp.zeros(2, jnp.float32)
            resampling: tuple = ()
            for aug in group:  # each stage pulls through the ones before it
                k = next(keys)
                # The stage's own checks, on abstract values (no computation).
                jax.eval_shape(functools.partial(_call, aug), k, image)
                builder, keywords, resampling = _affine_stage(aug)  # type: ignore[misc]
                a_i, t_i = builder(k, image.shape, **keywords)
                a, t = a @ a_i, a @ t_i + t
            order, mode, cval = resampling
            image = resample(image, (a, t), order=order, mode=mode, cval=cval)
        return image

    return apply


def random_apply(aug: Augmentation, p: Any = 0.5) -> Augmentation:
    """Applies ``aug`` with probability ``p``, else returns the image unchanged.

    Args:
      aug: an augmentation (``(key, image)``, or one of gradtx's
        deterministic ones).
      p: the probability of applying it, in [0, 1].

    Returns:
      An augmentation ``(key, image) -> image``.

    Raises:
      ValueError: ``p`` outside [0, 1] or NaN. (A traced NaN ``p``, which
        cannot be checked, gives an all-NaN image; all zeros for ``uint8``.)

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> flip = augment.random_apply(augment.flip_left_right, p=1.0)
      >>> flip(jax.random.key(0), jnp.arange(2.0).reshape(1, 2, 1))[0, :, 0]
      Array([1., 0.], dtype=float32)
    """
    _check_stages("random_apply", [aug])
    validate.finite("random_apply", "p", p, low=0.0, high=1.0)

    def apply(key: jax.Array, image: jax.Array) -> jax.Array:
        validate.key("random_apply", "key", key)
        k_coin, k_aug = jax.random.split(key)
        out = jax.lax.cond(
            jax.random.bernoulli(k_coin, p),
            lambda x: _call(aug, k_aug, x),
            lambda x: x,
            image,
        )
        return _common.nan_unless_finite(out, p)  # a NaN p would never apply

    return apply


def random_choice(
    *augs: Augmentation, p: Sequence[float] | None = None
) -> Augmentation:
    """Applies one of ``augs``, picked at random (uniformly, or with weights ``p``).

    All choices must give the same shape and dtype.

    Args:
      *augs: the candidates.
      p: their probabilities (non-negative, summing to 1), or None for uniform.

    Returns:
      An augmentation ``(key, image) -> image``.

    Raises:
      ValueError: no candidates, or ``p`` of the wrong length, negative, NaN
        or infinite, or not summing to 1.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> pick = augment.random_choice(augment.flip_left_right, augment.flip_up_down)
      >>> pick(jax.random.key(0), jnp.ones((2, 2, 1))).shape
      (2, 2, 1)
    """
    _check_stages("random_choice", augs)
    if p is not None:
        probs = [float(v) for v in p]
        # NaN compares False both ways: test finiteness, or p=[nan, 1] passes.
        if (
            len(probs) != len(augs)
            or not all(math.isfinite(v) and v >= 0 for v in probs)
            or abs(sum(probs) - 1) > 1e-6
        ):
            raise validate.error(
                ValueError,
                "random_choice",
                f"p must hold {len(augs)} non-negative probabilities summing to 1, "
                f"got {p!r}.",
            )
    logits = None if p is None else jnp.log(jnp.asarray(p, jnp.float32))

    def apply(key: jax.Array, image: jax.Array) -> jax.Array:
        validate.key("random_choice", "key", key)
        k_pick, k_aug = jax.random.split(key)
        if logits is None:
            index = jax.random.randint(k_pick, (), 0, len(augs))
        else:
            index = jax.random.categorical(k_pick, logits)
        branches = [functools.partial(_call, aug, k_aug) for aug in augs]
        return jax.lax.switch(index, branches, image)

    return apply


def batch(aug: Augmentation) -> Callable[..., jax.Array]:
    """Lifts a one-image augmentation to a batch, one random draw per image.

    ``batch(aug)(key, images)`` splits ``key`` into one key per image and maps
    ``aug`` over the batch with ``jax.vmap``: each image gets its own crop,
    flip or brightness (a batch-level augmenter that draws once per batch
    applies the same one to all). Deterministic gradtx functions are mapped
    over the images alone: ``batch(flip_left_right)(key, images)``.

    Args:
      aug: an augmentation of one image.

    Returns:
      ``(key, images) -> images`` for a batch ``(N, H, W, C)``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> flip = augment.batch(augment.random_flip_left_right)
      >>> images = jnp.tile(jnp.arange(2.0).reshape(1, 1, 2, 1), (8, 1, 1, 1))
      >>> flip(jax.random.key(0), images)[:, 0, 0, 0]  # each image its own coin
      Array([1., 0., 0., 0., 0., 1., 1., 0.], dtype=float32)
    """
    _check_stages("batch", [aug])

    def apply(key: jax.Array, images: jax.Array) -> jax.Array:
        validate.key("batch", "key", key)
        if jnp.ndim(images) != 4:
            raise validate.error(
                ValueError,
                "batch",
                "images must be a batch (N, height, width, channels), got shape "
                f"{jnp.shape(images)}.",
            )
        keys = jax.random.split(key, images.shape[0])
        return jax.vmap(functools.partial(_call, aug))(keys, images)

    return apply
