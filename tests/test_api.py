"""The public API: one ``__all__``, every export documented, nothing private leaks."""

from __future__ import annotations

import inspect
import types

import gradtx


def test_all_matches_the_module_namespace() -> None:
    public = {
        n
        for n, v in vars(gradtx).items()
        if not n.startswith("_")
        and not (
            isinstance(v, types.ModuleType)
            and n not in {"schedules", "augment", "init", "activations"}
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
    for name in ["sgd", "adagrad", "rmsprop", "adam", "adamw"]:
        doc = inspect.getdoc(getattr(gradtx, name)) or ""
        assert ".. math::" in doc, name
        assert "References:" in doc and "PyTorch" in doc, name


def test_optax_argument_names_are_kept() -> None:
    import optax

    for name in [
        "sgd",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "scale",
        "scale_by_learning_rate",
        "scale_by_schedule",
        "clip",
        "clip_by_global_norm",
        "trace",
        "ema",
        "scale_by_adam",
        "scale_by_rms",
        "scale_by_stddev",
        "scale_by_rss",
        "add_decayed_weights",
        "constant_schedule",
        "linear_schedule",
        "cosine_decay_schedule",
        "exponential_decay",
        "piecewise_constant_schedule",
        "warmup_cosine_decay_schedule",
        "join_schedules",
    ]:
        ours = list(inspect.signature(getattr(gradtx, name)).parameters)
        theirs = list(inspect.signature(getattr(optax, name)).parameters)
        # optax's arguments come first, in optax's order; gradtx may add more.
        theirs = [t for t in theirs if t not in {"seed"}]
        assert ours[: len(theirs)] == theirs, name


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
