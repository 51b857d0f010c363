"""The optimizer registry: lookups, checked entries, and the lists derived from it.

Every list of optimizers (the test catalogue, the API tests, the comparison
tool's choices) is read from :mod:`gradtx.optimizers`' registry; the README's
tables and the docstrings are checked against it here. The last test registers
a throwaway optimizer and follows it into every list: adding an optimizer is
one ``@register(...)`` entry.
"""

from __future__ import annotations

import operator
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from gradtx import optimizers
from gradtx.optimizers import Counterpart, Example, Preset

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _spelled(name: str, value: object) -> str:
    """``name=value`` as the docs write it: ``eps=1e-7``, ``decay=0.99``."""
    text = f"{value:g}" if isinstance(value, float) else repr(value)
    text = re.sub(r"e([+-])0*(?=\d)", r"e\1", text).replace("e+", "e")
    return f"{name}={text}"


def _table_rows(section: str) -> list[list[str]]:
    """The rows of the first table under README's ``## section``, as cells."""
    text = README.read_text().split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in rows[2:]]


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A copy of the registry: whatever a test registers is gone after it."""
    from gradtx.optimizers import _registry

    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    yield


# ------------------------------------------------------------------ lookups


def test_names_are_the_optimizers_classic_first() -> None:
    classic = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
    assert tuple(n for n in optimizers.names() if n in classic) == classic
    assert list(optimizers.registry()) == list(optimizers.names())
    order = [(e.year, e.name) for e in optimizers.registry().values()]
    assert order == sorted(order)


def test_get_and_info_find_names_as_the_other_registries_do() -> None:
    assert optimizers.get("adam") is gradtx.adam
    assert optimizers.get("AdamW") is gradtx.adamw
    assert optimizers.info("sgd").optax == Counterpart(
        "optax.sgd", {"momentum_after_lr": False}
    )
    with pytest.raises(
        ValueError, match=r"unknown optimizer 'adma'\. Did you mean [^?]*'adam'"
    ):
        optimizers.get("adma")
    with pytest.raises(TypeError, match="must be a string"):
        optimizers.info(gradtx.adam)  # type: ignore[arg-type]


def test_entries_are_read_only() -> None:
    entry = optimizers.info("adagrad")
    with pytest.raises(AttributeError):
        entry.year = 2000  # type: ignore[misc]
    assert entry.optax is not None
    with pytest.raises(TypeError):
        entry.optax.gradtx_kwargs["eps"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        optimizers.registry()["sgd"] = entry  # type: ignore[index]


def _toy(learning_rate: Any, momentum: Any = None) -> gradtx.GradientTransformation:
    """A stand-in optimizer for the registration checks."""
    return gradtx.sgd(learning_rate, momentum)


_GOOD: dict[str, Any] = {
    "year": 2026,
    "optax": None,
    "pytorch": None,
    "examples": [Example("toy", {"learning_rate": 0.1})],
    "presets": [Preset("toy", 0.1)],
}


@pytest.mark.usefixtures("scratch_registry")
@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"examples": []}, ValueError, "at least one Example"),
        (
            {"examples": [Example("sgd", {"learning_rate": 0.1})]},
            ValueError,
            "'sgd' is taken",
        ),
        (
            {"examples": [Example("toy", {"lr": 0.1})]},
            TypeError,
            "_toy takes: learning_rate, momentum",
        ),
        ({"examples": [Example("toy", {})]}, TypeError, "learning_rate"),
        (
            {
                "examples": [
                    Example("toy", {"learning_rate": 0.1}, scheduled=("momentum",))
                ]
            },
            ValueError,
            "schedules \\['momentum'\\]",
        ),
        ({"presets": [Preset("momentum", 0.1)]}, ValueError, "'momentum' is taken"),
        (
            {"presets": [Preset("toy", 0.0)]},
            ValueError,
            "learning_rate must be a finite number > 0",
        ),
        (
            {"presets": [Preset("toy", 0.1, weight_decay=-1.0)]},
            ValueError,
            "weight_decay",
        ),
        (
            {"presets": [Preset("toy", 0.1, kwargs={"b1": 0.9})]},
            TypeError,
            "Preset\\('toy'\\)",
        ),
        ({"decoupled_weight_decay": True}, TypeError, "decoupled_weight_decay"),
        (
            {"optax": Counterpart("optax.sgd", {"nesterov": True})},
            TypeError,
            "optax.sgd",
        ),
        (
            {
                "optax": Counterpart("optax.sgd", {"momentum": 0.9}),
                "examples": [Example("toy", {"learning_rate": 0.1, "momentum": 0.5})],
            },
            ValueError,
            "claims parity with optax, but sets momentum=0.5",
        ),
        ({"year": "2026"}, TypeError, "year must be an int"),
    ],
    ids=[
        "no-example",
        "example-name-taken",
        "example-kwarg-unknown",
        "example-lr-missing",
        "scheduled-without-value",
        "preset-name-taken",
        "preset-lr-zero",
        "preset-wd-negative",
        "preset-kwarg-unknown",
        "decoupled-without-weight-decay",
        "counterpart-kwarg-unknown",
        "parity-contradicts-counterpart",
        "year-not-int",
    ],
)
def test_register_checks_each_entry_at_once(
    change: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = optimizers.names()
    with pytest.raises(error, match=rf"register\(_toy\): .*{message}"):
        optimizers.register(**{**_GOOD, **change})(_toy)
    assert optimizers.names() == before


@pytest.mark.usefixtures("scratch_registry")
def test_a_name_is_registered_once() -> None:
    optimizers.register(**_GOOD)(_toy)
    assert optimizers.info("_toy").presets == (Preset("toy", 0.1),)
    with pytest.raises(ValueError, match="an optimizer named '_toy' is registered"):
        optimizers.register(
            **{**_GOOD, "examples": [Example("toy2", {"learning_rate": 1})]}
        )(_toy)
    assert optimizers.unregister("_toy").fn is _toy
    assert "_toy" not in optimizers.names()


# ------------------------------------------------- the registry's claims


def _run(tx: Any, apply: Any, steps: int = 30) -> dict:
    rng = np.random.default_rng(0)
    params = {"w": jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)}
    grads = [
        jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), params)
        for _ in range(steps)
    ]
    state = tx.init(params)
    update = jax.jit(tx.update)
    for g in grads:
        g = jax.tree.map(lambda gi, pi: gi + 0.5 * pi, g, params)
        u, state = update(g, state, params)
        params = apply(params, u)
    return params


@pytest.mark.parametrize(
    "name", [n for n, e in optimizers.registry().items() if e.optax is not None]
)
def test_the_optax_counterpart_is_the_optimizer_with_its_gradtx_kwargs(
    name: str,
) -> None:
    """``optax.<x>(lr)`` is ``gradtx.<x>(lr, **gradtx_kwargs)``, defaults and all."""
    from tests.catalogue import cases

    entry = optimizers.info(name)
    assert entry.optax is not None
    theirs_fn = operator.attrgetter(entry.optax.name.removeprefix("optax."))(optax)
    # A PRNG key has no default worth comparing (optax's None warns).
    given: dict[str, Any] = {"key": 0} if name == "noisy_sgd" else {}
    steps = 30
    if name == "lbfgs":
        # Its line search needs an objective (compared with optax's on
        # Rosenbrock in test_second_order.py). Under x64 optax keeps its
        # curvature weights in float64, and L-BFGS on random gradients
        # amplifies that rounding difference after about 10 steps.
        given["linesearch"] = None
        steps = 10
    ours_tx = entry.fn(0.05, **given, **entry.optax.gradtx_kwargs)
    theirs_tx = theirs_fn(0.05, **given)
    if name in cases.EXTRA_ARGS:  # an update that needs the loss value
        extra = cases.EXTRA_ARGS[name]
        ours_tx = cases.with_extra_args(lambda: ours_tx, extra)()
        theirs_tx = cases.with_extra_args(lambda: theirs_tx, extra)()
    ours = _run(ours_tx, gradtx.apply_updates, steps)
    theirs = _run(theirs_tx, optax.apply_updates, steps)
    np.testing.assert_allclose(ours["w"], theirs["w"], rtol=0, atol=1e-6)


def test_docstrings_say_how_to_get_each_counterparts_form() -> None:
    for name, entry in optimizers.registry().items():
        doc = entry.fn.__doc__ or ""
        for side in (entry.optax, entry.pytorch):
            if side is None:
                continue
            for key, value in side.gradtx_kwargs.items():
                assert _spelled(key, value) in doc, (
                    f"{name}'s docstring does not say that {_spelled(key, value)} "
                    f"gives {side.name}'s form"
                )


# ------------------------------------------------------------------ README


def test_readme_optimizer_row_lists_the_registry() -> None:
    rows = [r for r in _table_rows("API") if r[0].startswith("Optimizers (")]
    assert len(rows) == 1, "README's API table needs one 'Optimizers (...)' row"
    listed = re.findall(r"`(\w+)`", rows[0][1])
    expected = ", ".join(f"`{n}`" for n in optimizers.names())
    assert listed == list(optimizers.names()), (
        f"README's Optimizers row lists {listed}; the registry has "
        f"{list(optimizers.names())}. Its second cell should read: {expected}"
    )


def test_readme_shows_every_counterpart_that_needs_arguments() -> None:
    """Where gradtx's defaults are not optax's or PyTorch's (it follows the
    paper), "Where frameworks disagree" says which arguments give theirs."""
    rows = [" | ".join(r) for r in _table_rows("Where frameworks disagree")]
    for name, entry in optimizers.registry().items():
        for side in (entry.optax, entry.pytorch):
            if side is None or not side.gradtx_kwargs:
                continue
            needed = [
                f"`{name}(",
                side.name,
                *(_spelled(k, v) for k, v in side.gradtx_kwargs.items()),
            ]
            assert any(all(n in row for n in needed) for row in rows), (
                f"README's 'Where frameworks disagree' has no row that shows "
                f"{side.name} as `{name}(..., "
                f"{', '.join(_spelled(k, v) for k, v in side.gradtx_kwargs.items())})`"
            )


# ------------------------------------------------- one entry is enough


def toy_sign_sgd(learning_rate: Any) -> gradtx.GradientTransformation:
    r"""signSGD: a step of the learning rate against each gradient's sign.

    .. math::
       \theta_t = \theta_{t-1} - \eta_t\, \mathrm{sign}(g_t)

    References:
      Bernstein, Wang, Azizzadenesheli & Anandkumar, *signSGD: Compressed
      Optimisation for Non-Convex Problems*, ICML 2018,
      https://arxiv.org/abs/1802.04434
    """
    return gradtx.chain(
        gradtx.stateless(lambda updates, params: jax.tree.map(jnp.sign, updates)),
        gradtx.scale_by_learning_rate(learning_rate),
    )


@pytest.mark.usefixtures("scratch_registry")
def test_a_registered_optimizer_joins_every_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registering is all it takes: the catalogue's tests run the new
    optimizer, the API checks cover it, the comparison tool offers it; the
    README row and the exports, which cannot be derived, fail loudly."""
    from gradtx import compare
    from gradtx.compare import _cli
    from tests import test_api
    from tests.catalogue import cases, test_contract, test_optax_parity

    optimizers.register(
        year=2018,
        optax=Counterpart("optax.sign_sgd"),
        pytorch=None,
        examples=[
            Example("toy_sign_sgd", {"learning_rate": 0.01}),
            Example(
                "toy_sign_sgd_schedule",
                {"learning_rate": 0.05},
                scheduled=("learning_rate",),
            ),
        ],
        presets=[Preset("toy_sign_sgd", 1e-3)],
    )(toy_sign_sgd)

    # The catalogue: both examples, with optax's counterpart, through the
    # same test functions the suite parametrizes over its names.
    new = {k: v for k, v in cases.optimizer_cases().items() if k not in cases.CASES}
    assert set(new) == {"toy_sign_sgd", "toy_sign_sgd_schedule"}
    assert all(theirs is not None for _, theirs, _ in new.values())
    for name, case in new.items():
        monkeypatch.setitem(cases.CASES, name, case)
        test_contract.test_jit_equals_eager_and_compiles_once(name)
        test_contract.test_state_structure_and_dtypes_are_stable(name)
        test_contract.test_every_dtype_is_preserved(name, "bf16")
        test_optax_parity.test_matches_optax_over_many_steps(name, jnp.float32)

    # The API checks read the registry: these pass for the new optimizer ...
    test_api.test_optimizers_state_their_update_rule_and_reference()
    test_api.test_optax_argument_names_are_kept()
    test_docstrings_say_how_to_get_each_counterparts_form()
    # ... and these fail, saying what to add.
    with pytest.raises(AssertionError, match=r"gradtx/optimizers/__init__\.py"):
        test_api.test_every_registered_optimizer_is_exported()
    with pytest.raises(AssertionError, match="`toy_sign_sgd`"):
        test_readme_optimizer_row_lists_the_registry()

    # The comparison tool: a choice, with its defaults, in the default grid.
    assert list(compare.OPTIMIZERS) == [
        p.name for e in optimizers.registry().values() for p in e.presets
    ]
    assert "toy_sign_sgd" in compare.OPTIMIZERS
    variant = compare.Variant(optimizer="Toy-Sign-SGD")
    assert (variant.optimizer, variant.lr, variant.wd) == ("toy_sign_sgd", 1e-3, 0.0)
    tx = compare.make_optimizer(variant, variant.lr, variant.wd, total_steps=10)
    params = {"dense": {"kernel": jnp.ones((2, 2))}}
    updates, _ = tx.update(
        {"dense": {"kernel": -jnp.ones((2, 2))}}, tx.init(params), params
    )
    np.testing.assert_allclose(updates["dense"]["kernel"], 1e-3)
    grid = _cli._variants(_cli.parser().parse_args(["compare"]))
    assert "toy_sign_sgd" in {v.optimizer for v in grid}

    # Unregistered, it is gone from every list again.
    optimizers.unregister("toy_sign_sgd")
    assert "toy_sign_sgd" not in compare.OPTIMIZERS
    assert "toy_sign_sgd" not in cases.optimizer_cases()
    test_readme_optimizer_row_lists_the_registry()


def test_every_docstring_names_its_counterparts() -> None:
    """The issue's rule, "the optax and PyTorch equivalents" in each docstring:
    registering writes them from the entry, once, also when re-registered."""
    for name, entry in optimizers.registry().items():
        doc = entry.fn.__doc__ or ""
        for library, side in (("optax", entry.optax), ("PyTorch", entry.pytorch)):
            expected = f"{library}: none" if side is None else f"``{side.name}``"
            assert expected in doc.split("Counterparts (from")[-1], (name, library)
    entry = optimizers.unregister("lion")
    try:
        optimizers.register(
            year=entry.year,
            optax=entry.optax,
            pytorch=entry.pytorch,
            examples=entry.examples,
            presets=entry.presets,
            complex_params=entry.complex_params,
            decoupled_weight_decay=entry.decoupled_weight_decay,
        )(entry.fn)
    finally:
        assert optimizers.info("lion").fn is entry.fn
    assert (entry.fn.__doc__ or "").count("Counterparts (from") == 1


def test_every_optimizer_has_a_numpy_reference_written_from_its_paper() -> None:
    """A registered optimizer without a float64 NumPy reference fails here:
    its family's test module lists it among its cases (the case id starts
    with the optimizer's name), or a dedicated test is named below."""
    import importlib

    family_cases = {
        "test_numpy_reference": ("CASES",),
        "test_adam_variants": ("CASES",),
        "test_layerwise_sign": ("CASES", "POLYAK_CASES"),
        "test_memory_light": ("CASES",),
        "test_wrappers": ("CASES",),
        "test_second_order": ("LBFGS_CASES", "MUON_CASES"),
    }
    ids: set[str] = set()
    for module, names in family_cases.items():
        mod = importlib.import_module(f"tests.optimizers.{module}")
        for attr in names:
            ids |= set(getattr(mod, attr))
    # Optimizers checked against their reference by a test of their own.
    dedicated = {"asgd": "test_memory_light.py::test_asgd_keeps_the_papers_average"}
    missing = [
        n
        for n in optimizers.names()
        if n not in dedicated and not any(re.match(rf"{n}($|[-_])", i) for i in ids)
    ]
    assert not missing, f"no NumPy reference case for {missing}"
