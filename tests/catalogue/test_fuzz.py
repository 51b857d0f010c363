"""Hypothesis fuzz test of the public optimizer API.

Random pytrees (nested dicts, lists and tuples with ``None`` leaves; float32,
float64, bfloat16 and complex64 leaves of small shapes, ``()`` and zero-size
included), random chains of one to three transformations (building blocks,
optimizers and the masked / apply_if_finite / MultiSteps / accumulate
wrappers) and random hyperparameters, in and out of their documented ranges.

Properties:

* building succeeds exactly when every hyperparameter is in its documented
  range; otherwise it raises ValueError or TypeError naming a bad argument;
* ``init`` and two ``update`` steps (eager or under one ``jax.jit``) return
  finite updates with the params' structure, shapes and dtypes, and a state
  whose structure and dtypes do not change between steps;
* the params, gradients and state passed in are neither changed nor deleted;
* gradients of another structure or shape raise TreeMismatchError naming the
  first path that differs.

Magnitudes are bounded on purpose: params and gradients in [-10, 10], learning
rates, scales and weight decays at most 10, and ``eps`` at least 1e-6. Huge
hyperparameters may legitimately overflow to inf, so finiteness is only a fair
expectation inside these bounds. Infinite hyperparameters, and ``eps = 0``
where an update divides by it (Adam without ``eps_root``, RMSProp), are out of
range and must be refused.

State editing: :func:`gradtx.tree_set` on the state of a random
``inject_hyperparams`` optimizer, with random values in and out of range for
a hyperparameter or the step counter, eagerly or inside ``jax.jit``: it
succeeds exactly when the constructor would accept the value (and the entry
is not a schedule), keeps the state's structure and dtypes (the jitted update
does not recompile), and never changes the state passed in.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import gradtx

# GRADTX_FUZZ_EXAMPLES=1000 for a longer local search.
SETTINGS = settings(
    max_examples=int(os.environ.get("GRADTX_FUZZ_EXAMPLES", "50")),
    deadline=None,
    derandomize=True,
    # The explain phase re-runs a failing example hundreds of times: too slow.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- hyperparameter strategies ------------------------------------------------

NAN = math.nan
_NOT_A_NUMBER = st.sampled_from([True, "0.1", np.ones(2)])
_NEG = st.floats(-100.0, -1e-6)
_NOT_FINITE = st.sampled_from([NAN, math.inf, -math.inf])


@dataclasses.dataclass(frozen=True)
class Arg:
    """One keyword argument: values in its documented range, and outside it."""

    name: str
    valid: st.SearchStrategy[Any]
    invalid: st.SearchStrategy[Any] | None


def unit(name: str) -> Arg:  # [0, 1)
    bad = st.one_of(st.floats(1.0, 100.0), _NEG, _NOT_FINITE, _NOT_A_NUMBER)
    return Arg(name, st.floats(0.0, 0.999), bad)


def nonneg(name: str, high: float = 10.0) -> Arg:  # [0, inf), bounded (see above)
    bad = st.one_of(_NEG, _NOT_FINITE, _NOT_A_NUMBER)
    return Arg(name, st.floats(0.0, high), bad)


def positive(name: str) -> Arg:  # (0, inf), bounded (see above)
    bad = st.one_of(st.floats(-100.0, 0.0), _NOT_FINITE, _NOT_A_NUMBER)
    return Arg(name, st.floats(1e-3, 10.0), bad)


def eps(name: str, zero_ok: bool = True) -> Arg:
    """[0, inf) or, where an update divides by it, (0, inf); >= 1e-6 when run."""
    bad = st.one_of(_NEG, _NOT_FINITE, _NOT_A_NUMBER)
    if not zero_ok:
        bad = st.one_of(bad, st.sampled_from([0.0, 0]))
    return Arg(name, st.floats(1e-6, 1.0), bad)


def flag(name: str) -> Arg:
    return Arg(name, st.booleans(), st.sampled_from([0, 1, "yes", None]))


def learning_rate(name: str = "learning_rate") -> Arg:
    schedules = st.floats(0.0, 10.0).map(
        lambda v: gradtx.cosine_decay_schedule(v, decay_steps=3)
    )
    bad = st.one_of(_NEG, _NOT_FINITE, st.sampled_from([True, "0.1", np.ones(2)]))
    return Arg(name, st.one_of(st.floats(0.0, 10.0), schedules), bad)


def dtype(name: str) -> Arg:
    good = st.sampled_from([None, jnp.float32, jnp.float64, jnp.bfloat16])
    return Arg(name, good, st.sampled_from([jnp.int32, jnp.bool_]))


def momentum() -> Arg:
    a = unit("momentum")
    return Arg("momentum", st.one_of(st.none(), a.valid), a.invalid)


def count(name: str, low: int) -> Arg:
    bad = st.sampled_from([low - 1, -3, 1.5, True, "2"])
    return Arg(name, st.integers(low, 3), bad)


# --- builders -----------------------------------------------------------------


def _needs_momentum(kw: dict[str, Any]) -> set[str]:
    """sgd/rmsprop: ``nesterov=True`` without a momentum is a ValueError."""
    if kw.get("nesterov") is True and kw.get("momentum") is None:
        return {"nesterov", "momentum"}
    return set()


@dataclasses.dataclass(frozen=True)
class Builder:
    name: str
    fn: Callable[..., Any]
    args: tuple[Arg, ...] = ()
    required: tuple[str, ...] = ()  # always passed
    complex_ok: bool = True
    conflicts: Callable[[dict[str, Any]], set[str]] = lambda kw: set()
    # Names drawn out of range that the other arguments make valid.
    allowed: Callable[[dict[str, Any]], set[str]] = lambda kw: set()


def _eps_root_allows_eps_zero(kw: dict[str, Any]) -> set[str]:
    """Adam divides by sqrt(v + eps_root) + eps: eps = 0 is fine if eps_root > 0."""
    root = kw.get("eps_root", 0.0)
    ok = isinstance(root, float) and root > 0 and not isinstance(kw.get("eps"), bool)
    return {"eps"} if ok and kw.get("eps") == 0 else set()


ADAM_ARGS = (
    unit("b1"),
    unit("b2"),
    eps("eps", zero_ok=False),
    nonneg("eps_root", 1.0),
    dtype("mu_dtype"),
    dtype("nu_dtype"),
    flag("nesterov"),
)
RMS_ARGS = (
    unit("decay"),
    eps("eps", zero_ok=False),
    nonneg("initial_scale", 1.0),
    flag("eps_in_sqrt"),
    flag("bias_correction"),
)

LEAVES = [
    Builder("clip", gradtx.clip, (positive("max_delta"),), ("max_delta",), False),
    Builder(
        "clip_by_global_norm",
        gradtx.clip_by_global_norm,
        (positive("max_norm"),),
        ("max_norm",),
    ),
    Builder(
        "scale",
        gradtx.scale,
        (
            Arg(
                "step_size",
                st.floats(-10.0, 10.0),
                st.sampled_from([None, "1", np.ones(2)]),
            ),
        ),
        ("step_size",),
    ),
    Builder("trace", gradtx.trace, (unit("decay"), flag("nesterov")), ("decay",)),
    Builder("ema", gradtx.ema, (unit("decay"), flag("debias")), ("decay",)),
    Builder(
        "add_decayed_weights",
        gradtx.add_decayed_weights,
        (learning_rate("weight_decay"),),
    ),
    Builder(
        "scale_by_adam",
        gradtx.scale_by_adam,
        ADAM_ARGS,
        allowed=_eps_root_allows_eps_zero,
    ),
    Builder("scale_by_rms", gradtx.scale_by_rms, RMS_ARGS),
    Builder("scale_by_stddev", gradtx.scale_by_stddev, RMS_ARGS),
    Builder(
        "sgd",
        gradtx.sgd,
        (learning_rate(), momentum(), flag("nesterov"), flag("momentum_after_lr")),
        ("learning_rate",),
        conflicts=_needs_momentum,
    ),
    Builder(
        "adam",
        gradtx.adam,
        (learning_rate(), *ADAM_ARGS),
        ("learning_rate",),
        allowed=_eps_root_allows_eps_zero,
    ),
    Builder(
        "adamw",
        gradtx.adamw,
        (learning_rate(), *ADAM_ARGS, learning_rate("weight_decay")),
        ("learning_rate",),
        allowed=_eps_root_allows_eps_zero,
    ),
    Builder(
        "rmsprop",
        gradtx.rmsprop,
        (
            learning_rate(),
            *RMS_ARGS,
            flag("centered"),
            momentum(),
            flag("nesterov"),
        ),
        ("learning_rate",),
        conflicts=_needs_momentum,
    ),
    Builder(
        "adagrad",
        gradtx.adagrad,
        (
            learning_rate(),
            nonneg("initial_accumulator_value", 1.0),
            eps("eps"),
            flag("eps_in_sqrt"),
        ),
        ("learning_rate",),
    ),
]


def _mask_ndim(p: Any) -> Any:
    return jax.tree.map(lambda x: x.ndim > 0, p)


MASKS = st.sampled_from([True, False, _mask_ndim])


@st.composite
def hyperparams(draw: st.DrawFn, b: Builder, allow_invalid: bool) -> tuple[dict, set]:
    """Keyword arguments for ``b``, and the names of those out of range."""
    kw: dict[str, Any] = {}
    bad: set[str] = set()
    for a in b.args:
        choices = ["default", "valid"] + (["invalid"] if allow_invalid else [])
        if a.name in b.required:
            choices.remove("default")
        how = draw(st.sampled_from(choices))
        if how == "valid":
            kw[a.name] = draw(a.valid)
        elif how == "invalid" and a.invalid is not None:
            kw[a.name] = draw(a.invalid)
            bad.add(a.name)
        elif how == "invalid" or a.name in b.required:  # no invalid value
            kw[a.name] = draw(a.valid)
    bad -= b.allowed(kw)
    if b.conflicts(kw):
        if allow_invalid and not bad:
            bad |= b.conflicts(kw)
        elif not allow_invalid:
            kw["nesterov"] = False
    return kw, bad


@dataclasses.dataclass
class Spec:
    """A drawn transformation: how to build it, and what building must do."""

    build: Callable[[], Any]
    bad: set[str]  # argument names out of range (empty: building must succeed)
    complex_ok: bool
    text: str

    def __repr__(self) -> str:
        return self.text


@st.composite
def leaf_spec(draw: st.DrawFn, allow_invalid: bool) -> Spec:
    b = draw(st.sampled_from(LEAVES))
    kw, bad = draw(hyperparams(b, allow_invalid))
    return Spec(lambda: b.fn(**kw), bad, b.complex_ok, f"{b.name}(**{kw!r})")


@st.composite
def wrapped_spec(draw: st.DrawFn, allow_invalid: bool) -> Spec:
    inner = draw(leaf_spec(allow_invalid))
    kind = draw(st.sampled_from(["none", "masked", "finite", "multisteps", "acc"]))
    if kind == "none":
        return inner
    if kind == "masked":
        mask = draw(MASKS)
        return Spec(
            lambda: gradtx.masked(inner.build(), mask),
            inner.bad,
            inner.complex_ok,
            f"masked({inner.text}, {mask!r})",
        )
    name, fn, low = {
        "finite": ("max_consecutive_errors", gradtx.apply_if_finite, 0),
        "multisteps": ("every_k_schedule", gradtx.MultiSteps, 1),
        "acc": ("k", gradtx.accumulate, 1),
    }[kind]
    arg = count(name, low)
    invalid = allow_invalid and draw(st.booleans())
    value = draw(arg.invalid if invalid else arg.valid)
    bad = inner.bad | ({name} if invalid else set())

    def build() -> Any:
        t = fn(inner.build(), **{name: value})
        return t.gradient_transformation() if kind == "multisteps" else t

    return Spec(build, bad, inner.complex_ok, f"{fn.__name__}({inner.text}, {value!r})")


@st.composite
def chain_spec(draw: st.DrawFn, allow_invalid: bool = True) -> Spec:
    # Out-of-range values in about a third of the chains: with one chance per
    # argument, nearly every chain would fail to build and never run.
    allow_invalid = allow_invalid and draw(st.integers(0, 2)) == 0
    parts = draw(st.lists(wrapped_spec(allow_invalid), min_size=1, max_size=3))
    return Spec(
        lambda: gradtx.chain(*(p.build() for p in parts)),
        set().union(*(p.bad for p in parts)),
        all(p.complex_ok for p in parts),
        f"chain({', '.join(p.text for p in parts)})",
    )


# --- pytree strategies ----------------------------------------------------------

REAL = [jnp.float32, jnp.float64, jnp.bfloat16]
SHAPES = st.lists(st.integers(0, 3), max_size=3).map(tuple)


@st.composite
def shape_tree(draw: st.DrawFn, complex_ok: bool) -> Any:
    """A tree of (shape, dtype) pairs and None, in dicts, lists and tuples."""
    dtypes = REAL + ([jnp.complex64] if complex_ok else [])
    leaf = st.tuples(SHAPES, st.sampled_from(dtypes)).map(lambda t: ("leaf", *t))
    keys = st.sampled_from(["a", "b", "kernel", "bias", "w"])
    tree = st.recursive(
        st.one_of(leaf, leaf, st.none()),
        lambda c: st.one_of(
            st.dictionaries(keys, c, max_size=3),
            st.lists(c, max_size=3),
            st.lists(c, max_size=3).map(tuple),
        ),
        max_leaves=5,
    )
    # A bare None is not a usable params tree: update(g, state, None) means
    # "no params", which add_decayed_weights rightly refuses.
    return draw(tree.filter(lambda t: t is not None))


def _is_spec(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) == 3 and x[0] == "leaf"


def realize(shapes: Any, seed: int) -> Any:
    """Arrays in [-10, 10] (some exact zeros) for the (shape, dtype) leaves."""
    rng = np.random.default_rng(seed)

    def make(s: Any) -> jax.Array:
        _, shape, dt = s
        x = rng.uniform(-10, 10, shape) * (rng.random(shape) < 0.8)
        if dt == jnp.complex64:
            x = x + 1j * rng.uniform(-10, 10, shape)
        return jnp.asarray(x, dtype=dt)

    return jax.tree.map(make, shapes, is_leaf=_is_spec)


def snapshot(tree: Any) -> list[tuple[str, bytes]]:
    return [(str(x.dtype), np.asarray(x).tobytes()) for x in jax.tree.leaves(tree)]


def assert_untouched(tree: Any, before: list[tuple[str, bytes]]) -> None:
    leaves = jax.tree.leaves(tree)
    assert not any(isinstance(x, jax.Array) and x.is_deleted() for x in leaves)
    assert snapshot(tree) == before


def build(spec: Spec) -> Any:
    """Builds ``spec``; checks the ValueError/TypeError when it must fail."""
    if not spec.bad:
        return spec.build()
    with pytest.raises((ValueError, TypeError)) as info:
        spec.build()
    msg = str(info.value)
    assert any(name in msg for name in spec.bad), (spec.bad, msg)
    return None


def _meta(tree: Any) -> Any:
    return jax.tree.map(lambda x: (jnp.shape(x), jnp.result_type(x)), tree)


# --- the properties -----------------------------------------------------------


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16), use_jit=st.booleans())
def test_random_chains_on_random_trees(data: Any, seed: int, use_jit: bool) -> None:
    spec = data.draw(chain_spec(), label="spec")
    tx = build(spec)
    event("built" if tx is not None else "rejected")
    if tx is None:
        return
    params = realize(data.draw(shape_tree(spec.complex_ok), label="shapes"), seed)
    grads = [jax.tree.map(lambda p, i=i: p * (0.5 - i), params) for i in range(2)]
    before = [snapshot(params), *(snapshot(g) for g in grads)]

    init, update = tx.init, tx.update
    if use_jit:
        init, update = jax.jit(init), jax.jit(update)
    state = init(params)
    state_meta = _meta(state)
    for g in grads:
        state_before = snapshot(state)
        updates, new_state = update(g, state, params)
        assert_untouched(state, state_before)
        state = new_state
        assert jax.tree.structure(updates) == jax.tree.structure(params)
        assert _meta(updates) == _meta(params)
        assert _meta(state) == state_meta
        for path, u in jax.tree_util.tree_flatten_with_path(updates)[0]:
            u32 = np.asarray(u.astype(jnp.complex64 if jnp.iscomplexobj(u) else float))
            assert np.all(np.isfinite(u32)), (jax.tree_util.keystr(path), u)
    assert_untouched(params, before[0])
    for g, b in zip(grads, before[1:], strict=True):
        assert_untouched(g, b)


def _mismatch(grads: Any, how: str) -> tuple[Any, str]:
    """Breaks ``grads``; returns them and the path the error must name."""
    flat = jax.tree_util.tree_flatten_with_path(grads)[0]
    path, leaf = flat[0]
    if how == "shape":
        new = jnp.zeros((*leaf.shape, 2), leaf.dtype)
    elif how == "missing":
        new = None
    else:  # "nested": the leaf replaced by a one-leaf container
        new = [leaf]
    leaves = [new if i == 0 else x for i, (_, x) in enumerate(flat)]
    treedef = jax.tree.structure(grads)
    return jax.tree.unflatten(treedef, leaves), jax.tree_util.keystr(path)


@SETTINGS
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    how=st.sampled_from(["shape", "missing", "nested"]),
)
def test_mismatched_grads_name_a_path(data: Any, seed: int, how: str) -> None:
    spec = data.draw(chain_spec(allow_invalid=False), label="spec")
    tx = spec.build()
    shapes = data.draw(shape_tree(spec.complex_ok), label="shapes")
    first = data.draw(st.tuples(SHAPES, st.sampled_from(REAL)), label="first")
    params = realize({"first": ("leaf", *first), "rest": shapes}, seed)
    state = tx.init(params)
    grads, path = _mismatch(params, how)
    before = snapshot(params)
    with pytest.raises(gradtx.TreeMismatchError) as info:
        tx.update(grads, state, params)
    assert path in str(info.value), (path, str(info.value))
    assert_untouched(params, before)


# --- state editing ----------------------------------------------------------------


def _expect_set_error(
    value: Any, arg: Arg | None, invalid: bool, scheduled: bool
) -> bool:
    """Whether tree_set must refuse ``value`` for the entry of ``arg``."""
    if scheduled or invalid:
        return True
    # Valid constructor arguments that are not numbers: a schedule (tree_set
    # stores values, not functions) and momentum=None (not an injectable value).
    return callable(value) or value is None


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16), use_jit=st.booleans())
def test_tree_set_checks_values_like_the_constructor(
    data: Any, seed: int, use_jit: bool
) -> None:
    b = data.draw(st.sampled_from(LEAVES), label="builder")
    kw, _ = data.draw(hyperparams(b, allow_invalid=False), label="kw")
    tx = gradtx.inject_hyperparams(b.fn)(**kw)
    params = realize(data.draw(shape_tree(b.complex_ok), label="shapes"), seed)
    state = tx.init(params)
    names = sorted(state.hyperparams)
    name = data.draw(st.sampled_from([*names, "count"]), label="name")
    arg = (
        count("count", 0)
        if name == "count"
        else next(a for a in b.args if a.name == name)
    )
    invalid = arg.invalid is not None and data.draw(st.booleans(), label="invalid")
    value = data.draw(arg.invalid if invalid else arg.valid, label="value")
    if name != "count" and b.allowed({**kw, name: value}) == {name}:
        invalid = False  # e.g. eps = 0 with the drawn eps_root > 0
    scheduled = callable(kw.get(name))
    before = snapshot(state)

    def set_(s: Any) -> Any:
        return gradtx.tree_set(s, **{name: value})

    set_fn = jax.jit(set_) if use_jit else set_
    if _expect_set_error(value, arg, invalid, scheduled):
        with pytest.raises((ValueError, TypeError)) as info:
            set_fn(state)
        assert name in str(info.value), (name, value, str(info.value))
        assert_untouched(state, before)
        return
    new = set_fn(state)
    assert_untouched(state, before)
    assert jax.tree.structure(new) == jax.tree.structure(state)
    assert _meta(new) == _meta(state)
    got = new.count if name == "count" else new.hyperparams[name]
    np.testing.assert_array_equal(got, np.asarray(value, np.dtype(got.dtype)))
    update = jax.jit(tx.update)
    grads = jax.tree.map(lambda p: p * 0.5, params)
    update(grads, state, params)
    update(grads, new, params)
    assert update._cache_size() == 1  # the edited state compiles nothing new
