"""The Python API refuses what the command line refuses, with the same words."""

from __future__ import annotations

import math
import os
from pathlib import Path

import jax
import numpy as np
import pytest

from gradtx import compare


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"learning_rate": math.inf}, ValueError, "learning_rate must be a finite"),
        ({"learning_rate": True}, TypeError, "learning_rate must be a finite"),
        ({"learning_rate": 10**400}, ValueError, "learning_rate must be a finite"),
        ({"weight_decay": math.nan}, ValueError, "weight_decay must be a finite"),
        ({"clip": math.inf}, ValueError, "clip must be a finite gradient norm"),
        ({"dropout": "0.1"}, TypeError, "dropout must be in [0, 1)"),
        ({"batchnorm": "yes"}, TypeError, "batchnorm must be True or False"),
        ({"optimizer": "adma"}, ValueError, "Did you mean .*'adam'"),
    ],
)
def test_variant_refuses_bad_fields(
    fields: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("[", r"\[").replace(")", r"\)")):
        compare.Variant(**fields)


def test_variant_names_are_canonical_and_numbers_plain() -> None:
    v = compare.Variant(
        optimizer="Adam",
        activation="ReLU",
        dropout=0,
        learning_rate=np.float64(0.5),
        batchnorm=np.bool_(True),  # type: ignore[arg-type]
    )
    assert (v.optimizer, v.activation, v.lr, v.dropout) == ("adam", "relu", 0.5, 0.0)
    assert type(v.learning_rate) is float and v.batchnorm is True
    assert v.structure() == compare.Variant(batchnorm=True).structure()


def test_grid_takes_arrays_and_refuses_runaway_grids() -> None:
    assert len(compare.grid(learning_rate=np.logspace(-3, -1, 3))) == 3
    with pytest.raises(TypeError, match="axis optimizer must be a list"):
        compare.grid(optimizer="adam")
    with pytest.raises(ValueError, match="the grid has 1,000,000 variants"):
        compare.grid(learning_rate=np.linspace(0.1, 1, 1000),
                     weight_decay=np.linspace(0, 1, 1000))  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"variants": compare.Variant()}, TypeError, "pass \\[variant\\]"),
        ({"variants": "adam"}, TypeError, "run takes a list"),
        ({"variants": [compare.Variant(), "sgd"]}, TypeError,
         "variants\\[1\\] is 'sgd'"),
        ({"variants": []}, ValueError, "at least one"),
        ({"seeds": 0}, ValueError, "seeds must be a count >= 1"),
        ({"seeds": True}, TypeError, "seeds must be a count >= 1"),
        ({"seeds": [0, 2**32]}, ValueError, "got the seed 4294967296"),
        ({"seeds": [0, 1.5]}, TypeError, "got the seed 1.5"),
        ({"seeds": 10**12}, ValueError, "use at most"),
        ({"epochs": 10**12}, ValueError, "Even one seed does not fit"),
        ({"batch_size": 10**6}, ValueError, "larger than the 142 training examples"),
        ({"task": ["wine"]}, TypeError, "the task name must be a string"),
        ({"task": "mnist"}, ValueError, "unknown task 'mnist'"),
        ({"progress": "yes"}, TypeError, "progress must be True, False or a text"),
        ({"variants": compare.grid(activation=["swiglu"])}, ValueError,
         "cannot build the wine network"),
        ({"variants": compare.grid(augment=["light"])}, ValueError,
         "needs an image task"),
    ],
)  # fmt: skip
def test_run_checks_everything_before_training(
    kwargs: dict, error: type[Exception], message: str
) -> None:
    args = {"variants": [compare.Variant()], "task": "wine", "epochs": 1, **kwargs}
    with pytest.raises(error, match=message):
        compare.run(**args)


def test_size_estimates_follow_the_network() -> None:
    from gradtx.compare._model import activation_size, init_model, param_size

    for name in ("digits", "wine"):
        task = compare.load_task(name)
        for variant in (compare.Variant(), compare.Variant(batchnorm=True)):
            params, stats = jax.eval_shape(
                lambda k, t=task, v=variant: init_model(k, t, v), jax.random.key(0)
            )
            leaves = jax.tree.leaves((params, stats))
            assert param_size(task, variant) == sum(x.size for x in leaves)
    digits = compare.load_task("digits")
    # input 8x8x1, patches 8x8x9 and 4x4x144, outputs and activations of
    # 8x8x16 and 4x4x32, 10 logits.
    assert (
        activation_size(digits, compare.Variant())
        == 64 + 576 + 2304 + 2 * (1024 + 512) + 10
    )


def test_atomic_write_keeps_the_old_file_on_an_interrupt(tmp_path: Path) -> None:
    from gradtx.compare._files import atomic_write

    path = tmp_path / "results.json"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as f:
        f.write("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["results.json"]
    with atomic_write(path) as f:
        f.write("new")
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["results.json"]


def test_seed_counts_beyond_uint32_are_refused_where_memory_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gradtx.compare import _memory

    monkeypatch.setattr(_memory, "host_available", lambda: None)
    with pytest.raises(ValueError, match=r"seeds=4,294,967,297 is more than"):
        compare.run([compare.Variant()], "wine", seeds=2**32 + 1)


def test_memory_on_an_accelerator_checks_its_own_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import jax

    from gradtx.compare import _memory

    class Device:
        platform = "gpu"

        def memory_stats(self) -> dict:
            return {"bytes_limit": 3 * 10**9, "bytes_in_use": 10**9}

    monkeypatch.setattr(jax, "local_devices", lambda: [Device()])
    assert _memory.device_available() == 2 * 10**9
    monkeypatch.setattr(_memory, "host_available", lambda: 10**12)
    variants = compare.grid(optimizer=["adam"])
    with pytest.raises(ValueError, match=r"accelerator memory, more than the 2\.0 GB"):
        compare.run(variants, "digits", seeds=1000, epochs=1)
