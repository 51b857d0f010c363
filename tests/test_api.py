"""The public API: one ``__all__``, every export documented, nothing private leaks."""

from __future__ import annotations

import inspect
import operator
import types

import gradtx
from gradtx import optimizers


def test_all_matches_the_module_namespace() -> None:
    public = {
        n
        for n, v in vars(gradtx).items()
        if not n.startswith("_")
        and not (
            isinstance(v, types.ModuleType)
            and n
            not in {
                "schedules",
                "augment",
                "init",
                "activations",
                "optimizers",
                "tree",
                "losses",
                "contrib",
                "tree_utils",
                "microbatching",
                "linalg",
                "projections",
                "second_order",
                "assignment",
                "perturbations",
            }
        )
    }
    assert set(gradtx.__all__) == public
    assert len(gradtx.__all__) == len(set(gradtx.__all__))
    assert list(gradtx.__all__) == sorted(gradtx.__all__)


def test_every_public_callable_has_a_docstring_with_an_example() -> None:
    for name in gradtx.__all__:
        obj = getattr(gradtx, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # modules and type aliases
        doc = inspect.getdoc(obj) or ""
        assert doc, f"gradtx.{name} has no docstring"
        if inspect.isfunction(obj):
            assert ">>>" in doc, f"gradtx.{name}'s docstring has no doctested example"


def test_optimizers_state_their_update_rule_and_reference() -> None:
    # Every registered optimizer; tests/optimizers/test_registry.py checks
    # that the docstrings give the counterparts' arguments.
    for name, entry in optimizers.registry().items():
        doc = inspect.getdoc(entry.fn) or ""
        assert ".. math::" in doc, name
        assert "References:" in doc, name
        assert str(entry.year) in doc.split("References:", 1)[1], (
            f"{name}: its registered year {entry.year} is not in its References"
        )
        if entry.pytorch is not None:
            assert entry.pytorch.name in doc, f"{name}: no {entry.pytorch.name}"


def test_every_registered_optimizer_is_exported() -> None:
    for name, entry in optimizers.registry().items():
        fix = (
            f"add `from gradtx.optimizers import {name} as {name}` and {name!r} to "
            "__all__"
        )
        assert getattr(optimizers, name, None) is entry.fn and name in (
            optimizers.__all__
        ), f"gradtx.optimizers.{name}: {fix} in gradtx/optimizers/__init__.py"
        assert getattr(gradtx, name, None) is entry.fn and name in gradtx.__all__, (
            f"gradtx.{name}: {fix} in gradtx/__init__.py"
        )
    # ... and every optimizer exported is registered.
    for name in optimizers.__all__:
        obj = getattr(optimizers, name)
        if inspect.isfunction(obj) and obj.__module__ != optimizers.register.__module__:
            assert name in optimizers.names(), f"{name} is not registered"


# Building blocks whose arguments differ from optax's namesake, and why.
_OPTAX_ARGUMENTS_DIFFER = {
    "adaptive_grad_clip": "optax's axis argument is not supported",
    "global_norm": "a norm of any tree (tree=), not only of updates",
}


def test_optax_argument_names_are_kept() -> None:
    import optax

    from gradtx import schedules, transforms

    # Every optimizer against its registered counterpart, and every building
    # block and schedule against optax's function of the same name.
    pairs = [
        (entry.fn, operator.attrgetter(entry.optax.name.removeprefix("optax."))(optax))
        for entry in optimizers.registry().values()
        if entry.optax is not None
    ]
    for module in (transforms, schedules):
        for name in module.__all__:
            ours_fn, theirs_fn = getattr(module, name), getattr(optax, name, None)
            if (
                inspect.isfunction(ours_fn)
                and theirs_fn is not None
                and name not in _OPTAX_ARGUMENTS_DIFFER
            ):
                pairs.append((ours_fn, theirs_fn))
    assert len(pairs) >= 25  # the optimizers, 13 blocks, 8 schedules at least
    for ours_fn, theirs_fn in pairs:
        ours = list(inspect.signature(ours_fn).parameters)
        theirs = list(inspect.signature(theirs_fn).parameters)
        # optax's arguments come first, in optax's order; gradtx may add more.
        theirs = [t for t in theirs if t not in {"seed"}]
        assert ours[: len(theirs)] == theirs, ours_fn.__name__


def test_augment_all_lists_every_public_function_with_an_example() -> None:
    from gradtx import augment

    public = {
        n
        for n, v in vars(augment).items()
        if not n.startswith("_") and inspect.isfunction(v)
    }
    assert set(augment.__all__) == public
    assert list(augment.__all__) == sorted(augment.__all__)
    for name in augment.__all__:
        doc = inspect.getdoc(getattr(augment, name)) or ""
        assert ">>>" in doc, f"gradtx.augment.{name} has no doctested example"
        assert "Args:" in doc and "Returns:" in doc, name
    for name in ("cutout", "mixup", "cutmix"):
        assert "References:" in (inspect.getdoc(getattr(augment, name)) or ""), name
