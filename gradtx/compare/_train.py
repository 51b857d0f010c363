"""Training a group of runs (seeds x numeric hyperparameters) in one program.

A *run* is one variant with one seed. Runs whose variants share a structure
(:meth:`Variant.structure`: same optimizer, schedule, activation, ...) train
together: their params, optimizer state and BatchNorm statistics are stacked
along a leading axis and one ``jit(vmap(epoch))`` trains them all. The
learning rate, weight decay and clip norm enter as per-run arrays through
:func:`gradtx.inject_hyperparams` (so they are state, not constants of the
program), and the dropout rate as a traced argument, which is why grids of
them cost one compile.

Every run draws from keys derived from its seed only: the initial params
(``fold_in(key(seed), 0)``), the data order (``1``), dropout and augmentation
(``2``). Two variants with the same seed start from the same weights and see
the same batches, so their difference is the technique's alone.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import gradtx
from gradtx import augment as aug
from gradtx._internal import validate
from gradtx.compare._model import apply, init_model, loss_and_accuracy
from gradtx.compare._tasks import Task
from gradtx.compare._variants import Variant, choices

__all__ = ["Curves", "Stopped", "make_optimizer", "train_group"]


class Stopped(Exception):  # noqa: N818  (a request, not an error)
    """Training stopped on request, between epochs (see :func:`train_group`)."""


class Curves(NamedTuple):
    """Per-run training curves (leading axis: the runs of a group)."""

    step_loss: np.ndarray  # (runs, epochs * steps_per_epoch)
    train_loss: np.ndarray  # (runs, epochs): the mean loss of each epoch's steps
    test_loss: np.ndarray  # (runs, epochs)
    test_accuracy: np.ndarray  # (runs, epochs)


def _schedule(name: str, lr: jax.Array, total: int) -> gradtx.Schedule:
    if name == "constant":
        return gradtx.constant_schedule(lr)
    if name == "cosine":
        return gradtx.cosine_decay_schedule(lr, total)
    if name == "warmup_cosine":
        return gradtx.warmup_cosine_decay_schedule(0.0, lr, max(1, total // 20), total)
    return gradtx.piecewise_constant_schedule(
        lr, {max(1, total // 2): 0.1, max(2, 3 * total // 4): 0.1}
    )


def make_optimizer(
    variant: Variant,
    learning_rate: Any,
    weight_decay: Any,
    total_steps: int,
    clip: Any = None,
) -> gradtx.GradientTransformation:
    """The variant's optimizer: clip -> L2 (or AdamW's decoupled decay) -> update.

    The optimizer and its arguments are the variant's preset in the optimizer
    registry (:func:`gradtx.optimizers.register`).

    ``learning_rate`` (the peak), ``weight_decay`` and ``clip`` (the global
    norm; the variant's when None) may be traced: they are injected
    hyperparameters.
    """
    max_norm = variant.clip if clip is None else clip
    entry, preset = choices()[variant.optimizer]

    def factory(
        learning_rate: Any, weight_decay: Any, max_norm: Any
    ) -> gradtx.GradientTransformation:
        parts = []
        if variant.clip is not None:
            parts.append(gradtx.clip_by_global_norm(max_norm))
        kwargs = dict(preset.kwargs)
        if entry.decoupled_weight_decay:  # AdamW: the optimizer's own decay
            kwargs.update(weight_decay=weight_decay, mask=gradtx.decay_mask)
        else:
            parts.append(
                gradtx.add_decayed_weights(weight_decay, mask=gradtx.decay_mask)
            )
        return gradtx.chain(*parts, entry.fn(learning_rate, **kwargs))

    schedule = _schedule(variant.schedule, learning_rate, total_steps)
    return gradtx.inject_hyperparams(factory)(
        learning_rate=schedule,
        weight_decay=weight_decay,
        max_norm=1.0 if max_norm is None else max_norm,
    )


def _augmentation(name: str) -> Callable[[jax.Array, jax.Array], jax.Array] | None:
    """The named pipeline for a batch of small images (digits: no flips)."""
    if name == "off":
        return None
    stages = [functools.partial(aug.random_crop, size=8, padding=1, pad_mode="edge")]
    if name == "strong":
        stages.append(
            functools.partial(aug.random_affine, max_angle=0.2, scale=(0.9, 1.1))
        )
        stages.append(functools.partial(aug.random_brightness, max_delta=0.1))
    return aug.batch(aug.chain(*stages))


@functools.cache
def _programs(
    task: Task, variant: Variant, epochs: int, batch_size: int
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The jitted, vmapped init and epoch functions of a structure (cached, so
    runs of the same structure, e.g. seeds trained one by one, share them)."""
    n = len(task.x_train)
    steps = n // batch_size
    total = epochs * steps
    augment_fn = _augmentation(variant.augment) if task.kind == "image" else None
    entry, _ = choices()[variant.optimizer]

    def init_run(hp: jax.Array, seed: jax.Array) -> tuple[Any, Any, Any]:
        key = jax.random.fold_in(jax.random.key(seed), 0)
        params, stats = init_model(key, task, variant)
        tx = make_optimizer(variant, hp[0], hp[1], total, hp[3])
        return params, tx.init(params), stats

    def epoch_run(
        state: tuple, hp: jax.Array, seed: jax.Array, epoch: jax.Array, data: tuple
    ) -> tuple[tuple, tuple]:
        x_train, y_train, x_test, y_test = data
        tx = make_optimizer(variant, hp[0], hp[1], total, hp[3])
        base = jax.random.key(seed)
        order = jax.random.permutation(
            jax.random.fold_in(jax.random.fold_in(base, 1), epoch), n
        )
        noise = jax.random.fold_in(jax.random.fold_in(base, 2), epoch)

        def step(carry: tuple, i: jax.Array) -> tuple[tuple, jax.Array]:
            params, opt_state, stats = carry
            idx = jax.lax.dynamic_slice(order, (i * batch_size,), (batch_size,))
            x, y = x_train[idx], y_train[idx]
            k_drop, k_aug = jax.random.split(jax.random.fold_in(noise, i))
            if augment_fn is not None:
                x = augment_fn(k_aug, x)

            def loss_fn(p: Any) -> tuple[jax.Array, Any]:
                logits, new_stats = apply(
                    p,
                    stats,
                    x,
                    variant=variant,
                    task=task,
                    training=True,
                    key=k_drop,
                    dropout=hp[2],
                )
                return loss_and_accuracy(logits, y)[0], new_stats

            (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            # The objective, for optimizers whose update takes it (a line
            # search's value_fn, Polyak's value); the others drop it.
            updates, opt_state = tx.update(
                grads,
                opt_state,
                params,
                value=loss,
                grad=grads,
                value_fn=lambda p: loss_fn(p)[0],
            )
            return (gradtx.apply_updates(params, updates), opt_state, stats), loss

        state, losses = jax.lax.scan(step, state, jnp.arange(steps))
        params, opt_state, stats = state
        if entry.eval_params is not None:  # e.g. the schedule-free average
            params = entry.eval_params(opt_state, params)
        logits, _ = apply(
            params, stats, x_test, variant=variant, task=task, training=False
        )
        test_loss, test_acc = loss_and_accuracy(logits, y_test)
        return state, (losses, jnp.mean(losses), test_loss, test_acc)

    init_all = jax.jit(jax.vmap(init_run))
    epoch_all = jax.jit(
        jax.vmap(epoch_run, in_axes=(0, 0, 0, None, None)), donate_argnums=(0,)
    )
    return init_all, epoch_all


def train_group(
    task: Task,
    variant: Variant,
    hyperparams: np.ndarray,
    seeds: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    progress: Callable[[int, float], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Curves:
    """Trains runs of one structure together; returns their curves.

    Args:
      task: the data.
      variant: the shared structure (its numbers are ignored: they come from
        ``hyperparams``).
      hyperparams: ``(runs, 4)``: each run's :meth:`Variant.numbers` (learning
        rate, weight decay, dropout rate, clip norm).
      seeds: ``(runs,)``: each run's seed.
      epochs: passes over the training data.
      batch_size: examples per step (the ragged last batch is dropped).
      progress: called after each epoch with (epochs done, seconds of it).
      stop: asked before the group starts and after each epoch; True stops
        the training. These are the only points where nothing runs on the
        device (an interrupt inside XLA's compiler can crash the process at
        exit), which is why a Ctrl-C handler asks rather than raises.

    Raises:
      ValueError: a batch larger than the training set.
      Stopped: ``stop`` returned True.
    """
    n = len(task.x_train)
    if n // batch_size < 1:
        raise validate.error(
            ValueError,
            "run",
            f"batch_size {batch_size} is larger than the {n} training examples of "
            f"{task.name}.",
        )
    init_all, epoch_all = _programs(task, variant.structure(), epochs, batch_size)
    data = tuple(
        jnp.asarray(a) for a in (task.x_train, task.y_train, task.x_test, task.y_test)
    )
    hp = jnp.asarray(hyperparams, jnp.float32)
    sd = jnp.asarray(seeds, jnp.uint32)
    if stop is not None and stop():
        raise Stopped
    state = init_all(hp, sd)
    records = []
    for e in range(epochs):
        if e and stop is not None and stop():
            raise Stopped
        start = time.perf_counter()
        state, metrics = epoch_all(state, hp, sd, jnp.int32(e), data)
        metrics = jax.device_get(metrics)  # waits for the epoch
        records.append(metrics)
        if progress is not None:
            progress(e + 1, time.perf_counter() - start)
    step_loss = np.concatenate([np.asarray(r[0]) for r in records], axis=1)
    stack = [np.stack([np.asarray(r[k]) for r in records], axis=1) for k in (1, 2, 3)]
    return Curves(step_loss, *stack)
