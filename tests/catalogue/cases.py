"""The catalogue of transformations that every shared test runs over.

Each entry is a gradtx factory, the factory of the optax transformation with
identical semantics (gradtx arguments chosen to reproduce optax's defaults
where gradtx's follow the paper instead) or None, and whether gradtx takes
complex params.

The optimizers' entries are not written here: they are every registered
optimizer's examples (:class:`gradtx.optimizers.Example`), so a new optimizer
joins the contract, optax-parity, step and checkpoint tests by being
registered. Building blocks and combinators are listed by hand.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

import gradtx
from gradtx import optimizers


def scheduled(value: float) -> Any:
    """The decaying schedule the catalogue runs a scheduled argument with."""
    return optax.cosine_decay_schedule(value, decay_steps=40, alpha=0.1)


LR_SCHEDULE = scheduled(0.05)


def _bias_mask(params: dict) -> dict:
    return {k: k == "bias" for k in params}


def _bias_labels(params: dict) -> dict:
    return {k: "bias" if k == "bias" else "main" for k in params}


# name -> (gradtx factory, optax factory or None, gradtx supports complex params)
Factory = Callable[[], Any]
Case = tuple[Factory, Factory | None, bool]


def _build(
    fn: Callable[..., Any], kwargs: Mapping[str, Any], schedule: tuple[str, ...]
) -> Any:
    return fn(**{k: scheduled(v) if k in schedule else v for k, v in kwargs.items()})


def loss_value(params: Any) -> dict[str, Any]:
    """``value=``, a loss-like positive scalar of the params, for an ``update``
    that needs the loss (Polyak's step size): ``0.25 |params|^2 + 0.5``."""
    sq = sum(jnp.sum(jnp.abs(x) ** 2) for x in jax.tree.leaves(params))
    return {"value": 0.25 * sq + 0.5}


# Optimizers whose update needs keyword arguments beyond (updates, state,
# params), and the function of the params that gives them. Their factories (and
# optax's) are wrapped so that every shared test runs the plain
# update(updates, state, params).
EXTRA_ARGS: dict[str, Callable[[Any], dict[str, Any]]] = {"polyak_sgd": loss_value}


def with_extra_args(make: Factory, extra: Callable[[Any], dict[str, Any]]) -> Factory:
    """``make`` whose transformation computes ``extra(params)`` for its update."""

    def build() -> Any:
        tx = make()

        def update(updates: Any, state: Any, params: Any = None, **kw: Any) -> Any:
            return tx.update(updates, state, params, **extra(params), **kw)

        return gradtx.GradientTransformationExtraArgs(tx.init, update)

    return build


def optimizer_cases() -> dict[str, Case]:
    """Every registered optimizer's examples, read from the registry now.

    An example with ``parity`` is compared with the optax counterpart, called
    with the example's arguments less those that only reproduce optax's form.
    """
    cases: dict[str, Case] = {}
    for entry in optimizers.registry().values():
        for ex in entry.examples:
            theirs: Factory | None = None
            if entry.optax is not None and ex.parity:
                fn = operator.attrgetter(entry.optax.name.removeprefix("optax."))(optax)
                kwargs = {
                    k: v
                    for k, v in ex.kwargs.items()
                    if k not in entry.optax.gradtx_kwargs
                }
                theirs = functools.partial(_build, fn, kwargs, ex.scheduled)
            ours: Factory = functools.partial(_build, entry.fn, ex.kwargs, ex.scheduled)
            if entry.name in EXTRA_ARGS:
                extra = EXTRA_ARGS[entry.name]
                ours = with_extra_args(ours, extra)
                if theirs is not None:
                    theirs = with_extra_args(theirs, extra)
            cases[ex.name] = (ours, theirs, entry.complex_params)
    return cases


BUILDING_BLOCKS: dict[str, Case] = {
    "identity": (gradtx.identity, optax.identity, True),
    "scale": (lambda: gradtx.scale(-0.3), lambda: optax.scale(-0.3), True),
    "scale_by_learning_rate": (
        lambda: gradtx.scale_by_learning_rate(0.05),
        lambda: optax.scale_by_learning_rate(0.05),
        True,
    ),
    "scale_by_schedule": (
        lambda: gradtx.scale_by_schedule(LR_SCHEDULE),
        lambda: optax.scale_by_schedule(LR_SCHEDULE),
        True,
    ),
    "clip": (lambda: gradtx.clip(0.5), lambda: optax.clip(0.5), False),
    "clip_by_global_norm": (
        lambda: gradtx.clip_by_global_norm(1.0),
        lambda: optax.clip_by_global_norm(1.0),
        True,
    ),
    "trace": (lambda: gradtx.trace(0.9), lambda: optax.trace(0.9), True),
    "trace_nesterov": (
        lambda: gradtx.trace(0.9, nesterov=True),
        lambda: optax.trace(0.9, nesterov=True),
        True,
    ),
    "ema": (lambda: gradtx.ema(0.8), lambda: optax.ema(0.8), True),
    "ema_biased": (
        lambda: gradtx.ema(0.8, debias=False),
        lambda: optax.ema(0.8, debias=False),
        True,
    ),
    "scale_by_adam": (gradtx.scale_by_adam, optax.scale_by_adam, True),
    "scale_by_adam_eps_root": (
        lambda: gradtx.scale_by_adam(eps_root=1e-8),
        lambda: optax.scale_by_adam(eps_root=1e-8),
        True,
    ),
    # AMSGrad's default, the paper's (no bias correction), which optax has
    # one keyword away; Adan's optax form (the adan example is the paper's).
    "scale_by_amsgrad_paper": (
        gradtx.scale_by_amsgrad,
        lambda: optax.scale_by_amsgrad(
            bias_correction_mu=False, bias_correction_nu=False
        ),
        True,
    ),
    "scale_by_adan_optax_form": (
        lambda: gradtx.scale_by_adan(diff_weight=0.08),
        optax.scale_by_adan,
        True,
    ),
    "scale_by_rms": (gradtx.scale_by_rms, optax.scale_by_rms, True),
    "scale_by_rms_debiased": (
        lambda: gradtx.scale_by_rms(eps_in_sqrt=False, bias_correction=True),
        lambda: optax.scale_by_rms(eps_in_sqrt=False, bias_correction=True),
        True,
    ),
    "scale_by_stddev": (gradtx.scale_by_stddev, optax.scale_by_stddev, True),
    "scale_by_rss": (
        lambda: gradtx.scale_by_rss(0.1, 1e-7, eps_in_sqrt=True),
        lambda: optax.scale_by_rss(0.1, 1e-7),
        True,
    ),
    "scale_by_rss_paper": (gradtx.scale_by_rss, None, True),
    "add_decayed_weights": (
        lambda: gradtx.add_decayed_weights(0.1),
        lambda: optax.add_decayed_weights(0.1),
        True,
    ),
    "add_decayed_weights_schedule": (
        lambda: gradtx.add_decayed_weights(LR_SCHEDULE),
        lambda: optax.add_decayed_weights(LR_SCHEDULE),
        True,
    ),
    "clip_by_block_rms": (
        lambda: gradtx.clip_by_block_rms(0.3),
        lambda: optax.clip_by_block_rms(0.3),
        True,
    ),
    "adaptive_grad_clip": (
        lambda: gradtx.adaptive_grad_clip(0.05),
        lambda: optax.adaptive_grad_clip(0.05),
        True,
    ),
    "scale_by_optimistic_gradient": (
        lambda: gradtx.scale_by_optimistic_gradient(1.0, 0.5),
        lambda: optax.scale_by_optimistic_gradient(1.0, 0.5),
        True,
    ),
    "normalize": (gradtx.normalize, optax.contrib.normalize, True),
    "scale_by_param_block_norm": (
        gradtx.scale_by_param_block_norm,
        optax.scale_by_param_block_norm,
        True,
    ),
    "scale_by_param_block_rms": (
        gradtx.scale_by_param_block_rms,
        optax.scale_by_param_block_rms,
        True,
    ),
    # optax's DoG keeps (1,)-shaped sums, which this suite's strict rank
    # promotion refuses: tests/optimizers/test_layerwise_sign.py compares them.
    "scale_by_distance_over_gradients": (
        gradtx.scale_by_distance_over_gradients,
        None,
        True,
    ),
}

# Combinators, and an optimizer in a chain ("mask" in a name: its mask or
# labels index the params' keys).
COMBINATIONS: dict[str, Case] = {
    "clip_adamw": (
        lambda: gradtx.chain(
            gradtx.clip_by_global_norm(1.0), gradtx.adamw(0.05, weight_decay=0.1)
        ),
        lambda: optax.chain(
            optax.clip_by_global_norm(1.0), optax.adamw(0.05, weight_decay=0.1)
        ),
        True,
    ),
    "set_to_zero": (gradtx.set_to_zero, optax.set_to_zero, True),
    "masked_mask": (
        lambda: gradtx.masked(gradtx.adam(0.05), _bias_mask),
        lambda: optax.masked(optax.adam(0.05), _bias_mask),
        True,
    ),
    "freeze_mask": (
        lambda: gradtx.freeze(_bias_mask),
        lambda: optax.freeze(_bias_mask),
        True,
    ),
    "selective_transform_mask": (
        lambda: gradtx.selective_transform(gradtx.adam(0.05), freeze_mask=_bias_mask),
        # optax.selective_transform, with labels from a function (its own
        # freeze_mask must be a tree).
        lambda: optax.partition(
            {"train": optax.adam(0.05), "freeze": optax.set_to_zero()},
            lambda p: {k: "freeze" if k == "bias" else "train" for k in p},
        ),
        True,
    ),
    "partition_mask": (
        lambda: gradtx.partition(
            {"main": gradtx.adam(0.05), "bias": gradtx.sgd(0.1, 0.9)}, _bias_labels
        ),
        lambda: optax.partition(
            {"main": optax.adam(0.05), "bias": optax.sgd(0.1, 0.9)}, _bias_labels
        ),
        True,
    ),
    "apply_if_finite": (
        lambda: gradtx.apply_if_finite(gradtx.adam(0.05), 2),
        lambda: optax.apply_if_finite(optax.adam(0.05), 2),
        True,
    ),
    "multi_steps": (
        lambda: gradtx.MultiSteps(gradtx.adam(0.05), every_k_schedule=3),
        lambda: optax.MultiSteps(optax.adam(0.05), every_k_schedule=3),
        True,
    ),
    "inject_hyperparams": (
        lambda: gradtx.inject_hyperparams(gradtx.adamw)(
            learning_rate=LR_SCHEDULE, b1=0.8, weight_decay=0.1
        ),
        lambda: optax.inject_hyperparams(optax.adamw)(
            learning_rate=LR_SCHEDULE, b1=0.8, weight_decay=0.1
        ),
        True,
    ),
    "monitor_norms": (lambda: gradtx.monitor_norms(gradtx.adam(0.05)), None, True),
    # optax's wrappers (issue 17), each with optax's own as the reference.
    "zero_nans_adam": (
        lambda: gradtx.chain(gradtx.zero_nans(), gradtx.adam(0.05)),
        lambda: optax.chain(optax.zero_nans(), optax.adam(0.05)),
        True,
    ),
    "keep_params_nonnegative": (
        lambda: gradtx.chain(gradtx.sgd(0.05), gradtx.keep_params_nonnegative()),
        lambda: optax.chain(optax.sgd(0.05), optax.keep_params_nonnegative()),
        False,
    ),
    "normalize_by_update_norm": (
        lambda: gradtx.normalize_by_update_norm(scale_factor=0.05),
        lambda: optax.normalize_by_update_norm(scale_factor=0.05),
        True,
    ),
    "apply_every": (
        lambda: gradtx.chain(gradtx.adam(0.05), gradtx.apply_every(3)),
        lambda: optax.chain(optax.adam(0.05), optax.apply_every(3)),
        True,
    ),
    "conditionally_transform": (
        lambda: gradtx.conditionally_transform(
            gradtx.adam(0.05), lambda step: step % 2 == 0
        ),
        lambda: optax.conditionally_transform(
            optax.adam(0.05), lambda step: step % 2 == 0
        ),
        True,
    ),
    "snapshot": (
        lambda: gradtx.chain(gradtx.adam(0.05), gradtx.snapshot("n", gradtx.tree.norm)),
        lambda: optax.chain(optax.adam(0.05), optax.snapshot("n", optax.tree.norm)),
        True,
    ),
    # optax's monitor starts its measurements as an empty dict, which a
    # lax.scan carry (the parity test's) cannot hold: no optax reference here
    # (tests/transforms/test_monitor_measures.py compares the two eagerly).
    "monitor": (
        lambda: gradtx.chain(
            gradtx.adam(0.05),
            gradtx.monitor({"ema": gradtx.measure_with_ema(gradtx.tree.norm, 0.9)}),
        ),
        None,
        True,
    ),
    "inject_stateful_hyperparams": (
        lambda: gradtx.inject_stateful_hyperparams(gradtx.adam)(
            learning_rate=LR_SCHEDULE, b1=0.8
        ),
        lambda: optax.inject_hyperparams(optax.adam)(learning_rate=LR_SCHEDULE, b1=0.8),
        True,
    ),
    "apply_if_norm_below": (
        lambda: gradtx.apply_if_norm_below(gradtx.adam(0.05), 3.0),
        None,
        True,
    ),
    "flatten_adamw": (
        lambda: gradtx.flatten(gradtx.adamw(0.05, weight_decay=0.1), max_leaf_size=8),
        lambda: optax.flatten(optax.adamw(0.05, weight_decay=0.1)),
        True,
    ),
    # SAM in transparent mode: every other call is an adversarial step.
    "sam": (
        lambda: gradtx.sam(
            gradtx.adam(0.05), gradtx.chain(gradtx.normalize(), gradtx.sgd(0.05))
        ),
        lambda: optax.contrib.sam(
            optax.adam(0.05), optax.chain(optax.contrib.normalize(), optax.sgd(0.05))
        ),
        True,
    ),
}

# optax's counterpart fails on complex params (MultiSteps casts its
# accumulator to a real dtype; optax.adadelta squares complex gradients, g²
# where |g|² is meant): parity is checked on real params only.
OPTAX_REAL_ONLY = frozenset({"multi_steps", "adadelta"})

OPTIMIZERS = optimizer_cases()
_CLASH = (set(BUILDING_BLOCKS) | set(COMBINATIONS)) & set(OPTIMIZERS)
if _CLASH:
    raise ValueError(f"an optimizer's example takes a catalogue name: {_CLASH}")
CASES: dict[str, Case] = {**BUILDING_BLOCKS, **OPTIMIZERS, **COMBINATIONS}

# The entries that take an optimizer's steps (no extra scaling needed).
OPTIMIZER_NAMES = frozenset({*OPTIMIZERS, "clip_adamw"})
NAMES = sorted(CASES)
PARITY_NAMES = sorted(n for n, (_, o, _) in CASES.items() if o is not None)
