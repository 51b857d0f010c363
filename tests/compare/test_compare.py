"""The comparison tool: CLI, vectorized = sequential, determinism, the science."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from gradtx import compare
from gradtx.compare._cli import main
from gradtx.compare._train import train_group


def test_cli_end_to_end_on_a_tiny_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["compare", "--optimizers", "sgd", "adam", "--seeds", "2",
                   "--epochs", "1", "--out", str(tmp_path), "--quiet"])  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("| ")]
    assert lines[0].split("|")[1].strip() == "variant"
    assert {ln.split("|")[1].strip() for ln in lines[1:]} == {"sgd", "adam"}
    assert "digits: 1 epochs x 22 steps, 2 seeds" in out
    image = matplotlib.image.imread(tmp_path / "compare.png")
    assert image.shape[:2] == (450, 1200)  # 12 x 4.5 inches at 100 dpi
    data = json.loads((tmp_path / "results.json").read_text())
    assert [r["optimizer"] for r in data["summary"]] == ["sgd", "adam"]
    assert np.asarray(data["curves"]["test_accuracy"]).shape == (2, 2, 1)
    for row in data["summary"]:
        assert 0.1 < row["test_accuracy"] <= 1.0  # above chance after one epoch
    with (tmp_path / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 1
    assert {r["seed"] for r in rows} == {"0", "1"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--optimizers", "adma"], "'adam'"),  # among the suggestions
        (["--task", "mnist"], "Valid names: breast_cancer, digits, wine"),
        (["--task", "wine", "--augment", "light"], "needs an image task"),
        (["--init", "kaiming_norml"], "kaiming_normal"),
        (["--activation", "rleu"], "relu"),
        (["--schedule", "linear"], "Valid names"),
        (["--dropout", "1.5"], "dropout must be in [0, 1)"),
        (["--epochs", "0"], ">= 1"),
        (["--batch-size", "5000"], "larger than the"),
    ],
)
def test_cli_user_errors_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["compare", "--quiet", *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err


def test_cli_empty_grid_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--optimizers"])
    assert exit_info.value.code == 2
    assert "expected at least one argument" in capsys.readouterr().err


def test_vectorized_seeds_and_grid_equal_sequential_runs() -> None:
    task = compare.load_task("wine")
    variant = compare.Variant(
        optimizer="momentum", dropout=0.2, batchnorm=True, clip=1.0
    )
    # learning rate, weight decay, dropout rate, clip norm per run.
    hp = np.array(
        [
            [0.05, 0.0, 0.2, 1.0],
            [0.05, 0.0, 0.2, 1.0],
            [0.02, 1e-3, 0.4, 0.5],
            [0.02, 1e-3, 0.4, 0.5],
        ]
    )
    seeds = np.array([0, 1, 0, 1])
    together = train_group(task, variant, hp, seeds, epochs=2, batch_size=32)
    for r in range(4):
        alone = train_group(task, variant, hp[r : r + 1], seeds[r : r + 1], epochs=2,
                            batch_size=32)  # fmt: skip
        for name in together._fields:
            np.testing.assert_allclose(
                getattr(together, name)[r], getattr(alone, name)[0], rtol=1e-5,
                atol=1e-5, err_msg=name,
            )  # fmt: skip
    # A different learning rate (same seed) changes the run: the grid is real.
    assert not np.allclose(together.step_loss[0], together.step_loss[2])


def test_same_command_twice_gives_identical_numbers() -> None:
    variants = compare.grid(optimizer=["adam"], dropout=[0.3])
    a = compare.run(variants, task="breast_cancer", seeds=2, epochs=2, batch_size=32)
    b = compare.run(variants, task="breast_cancer", seeds=2, epochs=2, batch_size=32)
    for name in ("step_loss", "train_loss", "test_loss", "test_accuracy"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # Different seeds do differ.
    assert not np.array_equal(a.step_loss[0, 0], a.step_loss[0, 1])


def test_science_on_the_default_budget() -> None:
    # The default digits budget (10 epochs, batch 64, 3 seeds), three optimizers.
    res = compare.run(compare.grid(optimizer=["sgd", "momentum", "adam"]))
    final = res.test_accuracy[:, :, -1].mean(axis=1)
    by_name = dict(zip([v.optimizer for v in res.variants], final, strict=True))
    assert by_name["adam"] >= 0.90 and by_name["momentum"] >= 0.90, by_name
    # sgd and momentum share the learning rate; momentum learns faster: a
    # smaller area under the training-loss curve, for every seed.
    assert res.variants[0].lr == res.variants[1].lr
    area = res.step_loss.sum(axis=-1)
    assert np.all(area[1] < area[0]), area


def test_grid_config_and_results_api(tmp_path: Path) -> None:
    config = tmp_path / "variants.toml"
    config.write_text(
        'variants = [{optimizer = "sgd", schedule = "cosine"}]\n'
        "[grid]\noptimizer = ['adam']\nweight_decay = [0.0, 1e-4]\n"
    )
    variants = compare.load_config(config)
    assert [(v.optimizer, v.schedule, v.weight_decay) for v in variants] == [
        ("sgd", "cosine", None), ("adam", "constant", 0.0), ("adam", "constant", 1e-4)
    ]  # fmt: skip
    (tmp_path / "bad.json").write_text('{"variants": [{"optimiser": "sgd"}]}')
    with pytest.raises(ValueError, match="Did you mean 'optimizer'"):
        compare.load_config(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="empty"):
        compare.grid(optimizer=[])
    res = compare.run(variants, task="wine", seeds=1, epochs=1, batch_size=32)
    assert res.labels() == [
        "sgd schedule=cosine", "adam", "adam weight_decay=0.0001"
    ]  # fmt: skip
    assert "adam weight_decay=0.0001" in res.table()
    assert res.to_json(tmp_path / "r.json").exists()


def test_numeric_grids_share_one_compiled_program() -> None:
    from gradtx.compare._train import _programs

    variants = compare.grid(
        optimizer=["sgd"], learning_rate=[0.01, 0.02], dropout=[0.1, 0.3],
        clip=[0.05, 10.0],
    )  # fmt: skip
    before = _programs.cache_info().misses
    res = compare.run(variants, task="wine", seeds=1, epochs=1, batch_size=32)
    assert _programs.cache_info().misses == before + 1  # 8 variants, one compile
    # ... and the numbers are really used: every variant's curve differs.
    curves = {res.step_loss[i, 0].tobytes() for i in range(8)}
    assert len(curves) == 8


def test_optimizers_that_take_the_objective_get_each_batch_s_loss() -> None:
    """L-BFGS's line search (``value_fn``) and Polyak's step size (``value``)
    run on each batch's loss: both learn breast_cancer (63% is the majority
    class) in 2 epochs; without the objective their update raises."""
    res = compare.run(
        compare.grid(optimizer=["lbfgs", "polyak_sgd"]),
        task="breast_cancer",
        seeds=1,
        epochs=2,
        batch_size=32,
    )
    final = dict(
        zip(
            [v.optimizer for v in res.variants],
            res.test_accuracy[:, 0, -1],
            strict=True,
        )
    )
    assert min(final.values()) >= 0.9, final
    assert np.all(np.isfinite(res.step_loss))


def test_the_registry_s_eval_params_are_what_the_test_set_sees() -> None:
    """An optimizer whose ``eval_params`` gives all-zero params: every test
    logit is 0, the prediction is class 0, and the test accuracy is the test
    set's share of class 0, whatever the training did."""
    import jax

    import gradtx
    from gradtx import optimizers

    def zero_eval_sgd(learning_rate: float) -> gradtx.GradientTransformation:
        """SGD (a test optimizer)."""
        return gradtx.sgd(learning_rate)

    optimizers.register(
        year=2026,
        optax=None,
        pytorch=None,
        examples=[optimizers.Example("zero_eval_sgd", {"learning_rate": 0.1})],
        presets=[optimizers.Preset("zero_eval_sgd", 0.1, default_run=False)],
        eval_params=lambda state, params: jax.tree.map(jax.numpy.zeros_like, params),
    )(zero_eval_sgd)
    try:
        res = compare.run(
            compare.grid(optimizer=["zero_eval_sgd", "sgd"]),
            task="wine",
            seeds=1,
            epochs=2,
            batch_size=32,
        )
    finally:
        optimizers.unregister("zero_eval_sgd")
    y_test = compare.load_task("wine").y_test
    share = float(np.mean(np.asarray(y_test) == 0))
    np.testing.assert_allclose(res.test_accuracy[0, 0], share, rtol=0, atol=1e-6)
    assert res.test_accuracy[1, 0, -1] > share + 0.2  # plain sgd learned
