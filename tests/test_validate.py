"""Every check speaks one convention: ``"<function>: <argument> ..."`` (issue 15).

The function named is the one the user called: ``adam(b2=1.5)`` names
``adam``, although ``scale_by_adam`` makes the check; ``scale_by_adam(b2=1.5)``
names ``scale_by_adam``. Checks made when ``update`` runs name the function
that built the transformation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import gradtx
from gradtx import activations as act
from gradtx import augment, compare, init, optimizers, schedules
from gradtx._internal import validate
from gradtx.nn import functional

KEY = jax.random.key(0)
IMAGE = jnp.full((4, 4, 3), 0.5, jnp.float32)
PARAMS = {"w": jnp.zeros(3)}


def _update(tx: gradtx.GradientTransformation, grads: Any) -> Any:
    return tx.update(grads, tx.init(PARAMS), PARAMS)


def _unregistered(learning_rate: Any) -> gradtx.GradientTransformation:
    """An optimizer that registration refuses (its year is not an int)."""
    return gradtx.sgd(learning_rate)


# (function named, argument named, error, call)
CASES: list[tuple[str, str, type[Exception], Callable[[], Any]]] = [
    # optimizers name themselves, not the building block that checks
    ("adam", "b2", ValueError, lambda: gradtx.adam(1e-3, b2=1.5)),
    ("adam", "eps", ValueError, lambda: gradtx.adam(1e-3, eps=0.0)),
    ("adamw", "weight_decay", ValueError, lambda: gradtx.adamw(1e-3, weight_decay=-1)),
    ("adamw", "mask['w']", TypeError, lambda: gradtx.adamw(1e-3, mask={"w": 1})),
    ("sgd", "momentum", ValueError, lambda: gradtx.sgd(0.1, momentum=1.5)),
    ("sgd", "learning_rate", ValueError, lambda: gradtx.sgd(-0.1)),
    ("rmsprop", "decay", ValueError, lambda: gradtx.rmsprop(0.1, decay=1.0)),
    ("adagrad", "eps", ValueError, lambda: gradtx.adagrad(0.1, eps=-1.0)),
    # ... also when the step runs
    (
        "sgd",
        "learning_rate (the schedule's value at step 0)",
        ValueError,
        lambda: _update(gradtx.sgd(lambda t: -1.0), PARAMS),
    ),
    (
        "adam",
        "updates['w']",
        gradtx.TreeMismatchError,
        lambda: _update(gradtx.adam(0.1), {"w": jnp.zeros(2)}),
    ),
    # building blocks
    ("scale_by_adam", "b2", ValueError, lambda: gradtx.scale_by_adam(b2=1.5)),
    ("scale_by_adam", "nesterov", TypeError, lambda: gradtx.scale_by_adam(nesterov=1)),
    ("scale_by_rms", "nu_dtype", TypeError, lambda: gradtx.scale_by_rms(nu_dtype="x")),
    ("trace", "decay", ValueError, lambda: gradtx.trace(1.2)),
    (
        "clip_by_global_norm",
        "max_norm",
        ValueError,
        lambda: gradtx.clip_by_global_norm(-1),
    ),
    (
        "scale_by_schedule",
        "step_size_fn",
        TypeError,
        lambda: gradtx.scale_by_schedule(0.1),
    ),
    (
        "clip_by_global_norm",
        "updates['w']",
        gradtx.TreeMismatchError,
        lambda: _update(gradtx.clip_by_global_norm(1.0), {"w": jnp.zeros(2)}),
    ),
    (
        "add_decayed_weights",
        "params",
        ValueError,
        lambda: gradtx.add_decayed_weights(0.1).update(PARAMS, gradtx.EmptyState()),
    ),
    # combinators
    ("accumulate", "k", ValueError, lambda: gradtx.accumulate(gradtx.sgd(0.1), 0)),
    (
        "MultiSteps",
        "every_k_schedule",
        ValueError,
        lambda: gradtx.MultiSteps(gradtx.sgd(0.1), 0),
    ),
    (
        "apply_if_finite",
        "max_consecutive_errors",
        ValueError,
        lambda: gradtx.apply_if_finite(gradtx.sgd(0.1), -1),
    ),
    (
        "inject_hyperparams",
        "hyperparam_dtype",
        TypeError,
        lambda: gradtx.inject_hyperparams(gradtx.sgd, hyperparam_dtype=jnp.int32),
    ),
    (
        "master_weights",
        "master_dtype",
        TypeError,
        lambda: gradtx.master_weights(gradtx.sgd(0.1), jnp.int8),
    ),
    (
        "masked",
        "mask['w']",
        TypeError,
        lambda: gradtx.masked(gradtx.sgd(0.1), {"w": 1}),
    ),
    ("freeze", "mask['w']", TypeError, lambda: gradtx.freeze({"w": 1})),
    # schedules
    (
        "linear_schedule",
        "transition_steps",
        ValueError,
        lambda: schedules.linear_schedule(1.0, 0.0, 0),
    ),
    (
        "exponential_decay",
        "decay_rate",
        ValueError,
        lambda: schedules.exponential_decay(1.0, 10, 0.0),
    ),
    (
        "join_schedules",
        "boundaries",
        ValueError,
        lambda: schedules.join_schedules([schedules.constant_schedule(1.0)] * 2, [-1]),
    ),
    (
        "constant_schedule",
        "value",
        ValueError,
        lambda: schedules.constant_schedule(math.nan),
    ),
    # augment
    ("rotate", "angle", ValueError, lambda: augment.rotate(IMAGE, math.nan)),
    ("random_crop", "size", ValueError, lambda: augment.random_crop(KEY, IMAGE, 0)),
    (
        "random_brightness",
        "key",
        TypeError,
        lambda: augment.random_brightness(0, IMAGE, 0.1),
    ),
    (
        "random_contrast",
        "lower",
        ValueError,
        lambda: augment.random_contrast(KEY, IMAGE, 1.5, 0.5),
    ),
    (
        "adjust_hue",
        "image",
        ValueError,
        lambda: augment.adjust_hue(IMAGE[..., :2], 0.1),
    ),
    ("normalize", "std", ValueError, lambda: augment.normalize(IMAGE, 0.5, 0.0)),
    (
        "mixup",
        "images",
        ValueError,
        lambda: augment.mixup(KEY, IMAGE, jnp.zeros(4, jnp.int32), 0.2, num_classes=2),
    ),
    # nn
    (
        "BatchNorm",
        "momentum",
        ValueError,
        lambda: gradtx.nn.BatchNorm(4, momentum=1.5, rngs=nnx.Rngs(0)),
    ),
    (
        "BatchNorm",
        "mask",
        TypeError,
        lambda: gradtx.nn.BatchNorm(3, use_running_average=False, rngs=nnx.Rngs(0))(
            jnp.ones((2, 3)), mask=jnp.ones((2, 3))
        ),
    ),
    ("Dropout", "rate", ValueError, lambda: gradtx.nn.Dropout(1.5)),
    (
        "SpatialDropout",
        "channel_axis",
        TypeError,
        lambda: gradtx.nn.SpatialDropout(0.5, channel_axis=1.0),
    ),
    ("PReLU", "num_parameters", ValueError, lambda: gradtx.nn.PReLU(0)),
    ("dropout", "rate", ValueError, lambda: functional.dropout(KEY, jnp.ones(3), 1.5)),
    (
        "batch_norm",
        "epsilon",
        ValueError,
        lambda: functional.batch_norm(
            jnp.ones((2, 3)),
            None,
            None,
            jnp.zeros(3),
            jnp.ones(3),
            epsilon=0.0,
            training=True,
        ),
    ),
    ("renorm_warmup", "r_max", ValueError, lambda: gradtx.nn.renorm_warmup(0.5)),
    # init
    ("kaiming_normal", "mode", ValueError, lambda: init.kaiming_normal("fan_avg")),
    ("xavier_uniform", "gain", ValueError, lambda: init.xavier_uniform(-1.0)),
    (
        "variance_scaling",
        "distribution",
        ValueError,
        lambda: init.variance_scaling(1.0, "fan_in", "cauchy"),
    ),
    ("sparse", "sparsity", ValueError, lambda: init.sparse(1.5)),
    ("torch_default_bias", "fan_in", ValueError, lambda: init.torch_default_bias(0)),
    # activations
    ("hardshrink", "lambd", ValueError, lambda: act.hardshrink(jnp.ones(2), -0.1)),
    (
        "rrelu",
        "lower",
        ValueError,
        lambda: act.rrelu(jnp.ones(2), KEY, lower=0.5, upper=0.2),
    ),
    ("snake", "alpha", ValueError, lambda: act.snake(jnp.ones(2), 0.0)),
    (
        "prelu",
        "negative_slope",
        ValueError,
        lambda: act.prelu(jnp.ones((2, 3)), jnp.ones(4)),
    ),
    ("threshold", "value", TypeError, lambda: act.threshold(jnp.ones(2), 0.0, "1")),
    # compare
    ("Variant", "dropout", ValueError, lambda: compare.Variant(dropout=1.0)),
    ("grid", "learning_rate", ValueError, lambda: compare.grid(learning_rate=[0])),
    ("grid", "axis clip", TypeError, lambda: compare.grid(clip=0.1)),
    ("run", "variants", TypeError, lambda: compare.run(compare.Variant())),
    ("run", "seeds", ValueError, lambda: compare.run([compare.Variant()], seeds=0)),
    ("run", "epochs", ValueError, lambda: compare.run([compare.Variant()], epochs=0)),
    # the optimizer registry
    (
        "register(_unregistered)",
        "year",
        TypeError,
        lambda: optimizers.register(
            year="2026", optax=None, pytorch=None, examples=[], presets=[]
        )(_unregistered),
    ),
    # state
    (
        "tree_set",
        "state[0].count",
        TypeError,
        lambda: gradtx.tree_set(gradtx.adam(0.1).init(PARAMS), count="1"),
    ),
]


@pytest.mark.parametrize(
    ("fn", "arg", "error", "call"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_messages_name_the_function_called_then_the_argument(
    fn: str, arg: str, error: type[Exception], call: Callable[[], Any]
) -> None:
    with pytest.raises(error) as info:
        call()
    assert re.match(rf"{re.escape(fn)}: {re.escape(arg)}(?!\w)", str(info.value)), str(
        info.value
    )


def test_named_names_the_outermost_caller_and_is_a_decorator() -> None:
    assert validate.who("inner") == "inner"
    with validate.named("outer") as fn:
        assert fn == "outer"
        with validate.named("inner") as inner:
            assert inner == "outer" and validate.who("block") == "outer"
    assert validate.who("block") == "block"

    @validate.named("wrapper")
    def build(b2: float) -> None:
        """Builds."""
        validate.number("block", "b2", b2, low=0.0, high=1.0, high_open=True)

    assert build.__name__ == "build" and build.__doc__ == "Builds."
    with pytest.raises(ValueError, match=re.escape("wrapper: b2 must be in [0, 1)")):
        build(1.5)
    assert validate.who("block") == "block"  # reset after an error too


def test_update_time_checks_name_the_function_that_built_the_transformation() -> None:
    with validate.named("my_optimizer"):
        tx = gradtx.scale_by_adam()
    state = tx.init(PARAMS)
    with pytest.raises(
        gradtx.TreeMismatchError, match=r"^my_optimizer: updates\['w'\]"
    ):
        tx.update({"w": jnp.zeros(2)}, state)


def test_tracers_pass_and_traced_schedule_values_out_of_range_become_nan() -> None:
    @jax.jit
    def step(lr: jax.Array) -> jax.Array:
        validate.number("f", "lr", lr, low=0.0)  # a tracer: not checked
        return validate.scheduled_value("f", "lr", lambda c: lr, jnp.int32(0), low=0.0)

    assert float(step(jnp.float32(0.5))) == 0.5
    assert np.isnan(float(step(jnp.float32(-0.5))))


@pytest.mark.parametrize(
    ("check", "shown"),
    [
        (
            lambda: validate.number("f", "x", math.inf),
            "f: x must be in (-inf, inf), got inf.",
        ),
        (
            lambda: validate.number("f", "x", 0.0, low=0.0, low_open=True),
            "f: x must be in (0, inf), got 0.0.",
        ),
        (
            lambda: validate.integer("f", "n", True, low=1, meaning="steps"),
            "f: n is True; expected an int >= 1 (steps).",
        ),
        (
            lambda: validate.boolean("f", "flag", 1),
            "f: flag must be True or False, got 1.",
        ),
        (
            lambda: validate.dtype("f", "d", jnp.int32, kind="real"),
            "f: d must be a real floating dtype, e.g.",
        ),
        (
            lambda: validate.choice("f", "mode", "fan_inn", ("fan_in", "fan_out")),
            "f: mode='fan_inn' is not valid; choose one of 'fan_in', 'fan_out'. "
            "Did you mean 'fan_in'?",
        ),
        (
            lambda: validate.lookup("f", "thing", "Aa", {"b": 1}),
            "f: unknown thing 'Aa'. Valid names: b.",
        ),
        (
            lambda: validate.finite("f", "x", math.nan, low=0.0),
            "f: x is nan, but it must be a finite number >= 0.",
        ),
        (
            lambda: validate.sample_range("f", ("lo", "hi"), 2.0, 1.0),
            "f: lo must be <= hi, got lo=2.0 > hi=1.0",
        ),
        (
            lambda: validate.params("f", {"n": jnp.zeros(1, jnp.int32)}),
            "f: params['n'] has dtype int32",
        ),
        (
            lambda: validate.plain_number("f", "x", 10**400),
            "f: x must be a finite number, got 1000",
        ),
        (
            lambda: validate.plain_number("f", "x", 1.0, integer=True),
            "f: x must be an int, got 1.0.",
        ),
        (
            lambda: validate.plain_number(
                "f", "n", 8, integer=True, low=0, high=8, high_open=True
            ),
            "f: n must be an int in [0, 8), got 8.",
        ),
        (
            lambda: validate.plain_number("f", "p", 1.0, high=1.0, high_open=True),
            "f: p must be a finite number < 1, got 1.0.",
        ),
        (
            lambda: validate.sequence("f", "xs", "ab"),
            "f: xs must be a list of values, got 'ab'.",
        ),
        (
            lambda: validate.sequence("f", "xs", {"a": 1}, iterable=True),
            "f: xs must be a list of values, got {'a': 1}.",
        ),
        (
            lambda: validate.sequence("f", "xs", np.zeros(0)),
            "f: xs is empty; give at least one value.",
        ),
        (
            lambda: validate.sequence("f", "ns", 3, item="int", kind=int),
            "f: ns must be a list of ints, got one int.",
        ),
        (
            lambda: validate.sequence("f", "ns", (1, "2"), item="int", kind=int),
            "f: ns[1] is '2', not a int.",
        ),
    ],
)
def test_each_check_says_what_is_wrong(check: Callable[[], Any], shown: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        check()
    assert str(info.value).startswith(shown), str(info.value)


def test_plain_number_and_sequence_accept_what_they_document() -> None:
    validate.plain_number("f", "x", np.float64(0.5), low=0.0, high=1.0)
    validate.plain_number("f", "n", 2**70, integer=True, low=0)  # exact, any size
    validate.plain_number("f", "n", np.int8(3), integer=True, low=0)
    assert validate.sequence("f", "xs", np.arange(2)) == [0, 1]
    assert validate.sequence("f", "xs", (x for x in "ab"), iterable=True) == ["a", "b"]
    with pytest.raises(TypeError, match="f: xs must be a list of values, got <gen"):
        validate.sequence("f", "xs", (x for x in "ab"))
