"""The command line refuses bad input before training (issue 14).

Bad input of any kind is one line on stderr and exit status 2 before any
training, an --out that cannot be written included; a group that fails keeps
the finished ones. Training is faked (``fake``: instant, and it records what
it was asked to train).
"""

from __future__ import annotations

import json
import pathlib
from pathlib import Path
from typing import Any

import pytest

from gradtx.compare._cli import main
from tests.compare.helpers import THREE_GROUPS, FakeTraining, one_line, run_cli

# --- the output directory, checked before training ---------------------------


def test_out_that_is_a_file_fails_before_training(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("keep me")
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path / "taken")])
    line = one_line(capsys.readouterr().err)
    assert status == 2 and fake.groups == []
    assert "taken" in line and "is a file" in line
    assert (tmp_path / "taken").read_text() == "keep me"


def test_out_under_a_file_fails_before_training(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("")
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path / "taken" / "a" / "b")])
    line = one_line(capsys.readouterr().err)
    assert status == 2 and fake.groups == []
    assert "lies under" in line and "taken" in line


def test_out_that_cannot_be_written_fails_before_training(
    tmp_path: Path,
    fake: FakeTraining,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # We run as root, so permissions do not block writes: fail the probe.
    def refuse(self: Path, data: bytes) -> int:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "write_bytes", refuse)
    out = tmp_path / "new" / "results"
    status = run_cli([*THREE_GROUPS, "--out", str(out)])
    line = one_line(capsys.readouterr().err)
    assert status == 2 and fake.groups == []
    assert str(out) in line and "cannot be written to: Permission denied" in line
    assert not (tmp_path / "new").exists()  # what the check created is gone


def test_out_holding_a_directory_where_a_result_goes(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "results.json").mkdir()
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path)])
    assert status == 2 and fake.groups == []
    assert "'results.json'" in one_line(capsys.readouterr().err)


# --- bad input: one line, exit 2, nothing trained ------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--learning-rates", "inf"], "learning_rate must be a finite number > 0"),
        (["--learning-rates", "nan"], "learning_rate must be a finite number > 0"),
        (["--learning-rates", "0"], "learning_rate must be a finite number > 0"),
        (["--learning-rates", "1e999"], "got inf"),
        (["--weight-decay=-inf"], "weight_decay must be a finite number >= 0"),
        (["--weight-decay", "nan"], "weight_decay must be a finite number >= 0"),
        (["--clip", "inf"], "clip must be a finite gradient norm > 0"),
        (["--clip", "-1"], "clip must be a finite gradient norm > 0"),
        (["--dropout", "nan"], "dropout must be in [0, 1)"),
        (["--dropout", "1"], "dropout must be in [0, 1)"),
        (["--seeds", "0"], "seeds must be a count >= 1"),
        (["--seeds", "-2"], "seeds must be a count >= 1"),
        (["--seeds", "1000000000000"], "use at most"),
        (["--epochs", "-1"], "epochs is -1; expected an int >= 1"),
        (["--epochs", "1000000000000"], "fewer epochs"),
        (["--batch-size", "0"], "batch_size is 0; expected an int >= 1"),
        (["--batch-size", "143"], "larger than the 142 training examples"),
        (["--seeds", "two"], "argument --seeds: invalid int value: 'two'"),
        (["--learning-rates", "fast"], "--learning-rates: 'fast' is not a number"),
        (["--activation", "prelu"], "cannot build the wine network"),
        (["--activation", "swiglu"], "cannot build the wine network"),
        (["--init", "constant"], "cannot build the wine network"),
        (["--optimizers", "Adam", "--task", "Wine", "--out", "/proc/x/y"],
         "cannot be created"),
    ],
)  # fmt: skip
def test_bad_flags_are_one_line_exit_2_before_training(
    argv: list[str], message: str, fake: FakeTraining,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    try:
        status = run_cli([*THREE_GROUPS, *argv])
    except SystemExit as exit_info:  # argparse's own errors
        status = int(exit_info.code or 0)
    line = one_line(capsys.readouterr().err)
    assert status == 2 and fake.groups == []
    assert message in line, line


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("variants = 3", "'variants' must be a list of tables"),
        ("variants = [1, 2]", "variants[0]: each variant must be a table"),
        ('variants = [{optimizer = "sgd"}, {learning_rate = inf}]',
         "variants[1]: learning_rate must be a finite number"),
        ('variants = [{optimizer = "sgd", learning_rate = 1e999}]', "got inf"),
        ("variants = [{batchnorm = 1}]", "batchnorm must be True or False"),
        ("grid = 3", "'grid' must be a table of axes"),
        ('grid = {optimizer = "adam"}', "grid: axis optimizer must be a list"),
        ("grid = {optimizer = [[1]]}", "grid: the optimizer name must be a string"),
        ("grid = {dropout = []}", "grid: axis dropout is empty"),
        ("varients = []", "Did you mean 'variants'"),
        ('{"variants": [{"learning_rate": NaN}]}', "got nan"),
        ("[1, 2]", "needs a 'variants' list or a 'grid' table"),
    ],
)  # fmt: skip
def test_bad_configs_are_one_line_exit_2_before_training(
    config: str, message: str, tmp_path: Path, fake: FakeTraining,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = tmp_path / ("c.json" if config[0] in "[{" else "c.toml")
    path.write_text(config)
    status = run_cli(["compare", "--config", str(path), "--task", "wine", "--quiet",
                      "--out", str(tmp_path / "out")])  # fmt: skip
    line = one_line(capsys.readouterr().err)
    assert status == 2 and fake.groups == [] and not (tmp_path / "out").exists()
    assert str(path) in line and message in line, line


def test_config_with_axis_flags_is_refused(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('variants = [{optimizer = "sgd"}]')
    status = run_cli(["compare", "--config", str(path), "--dropout", "0.1"])
    assert status == 2 and fake.groups == []
    assert "--dropout would be ignored" in one_line(capsys.readouterr().err)


def test_argparse_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--epochs", "ten"])
    assert exit_info.value.code == 2
    assert one_line(capsys.readouterr().err) == (
        "gradtx compare: error: argument --epochs: invalid int value: 'ten' "
        "(see gradtx compare --help)"
    )


def test_memory_message_says_estimate_limit_and_fix(
    tmp_path: Path, fake: FakeTraining, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from gradtx.compare import _memory

    monkeypatch.setattr(_memory, "host_available", lambda: 2 * 10**9)
    monkeypatch.setattr(_memory, "device_available", lambda: None)
    argv = ["compare", "--optimizers", "adam", "--learning-rates", "0.01", "0.001",
            "--epochs", "1", "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert run_cli([*argv, "--seeds", "1000"]) == 2 and fake.groups == []
    line = one_line(capsys.readouterr().err)
    assert "2 variants x 1,000 seeds on digits need about 14." in line, line
    assert "more than the 2.0 GB available" in line
    assert "trains 2,000 runs at once, 7.1 MB each" in line
    fit = int(line.split("use at most ")[1].split(" seeds")[0].replace(",", ""))
    assert 100 < fit < 140
    assert run_cli([*argv, "--seeds", str(fit)]) == 0  # the advice works
    assert fake.groups == ["adam"]


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError("a bug")])
def test_a_failing_group_keeps_the_finished_ones(
    error: Exception, tmp_path: Path, fake: FakeTraining,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def fail(group: int) -> None:
        if group == 2:
            raise error

    fake.hook = fail
    if isinstance(error, MemoryError):  # the estimate was wrong: one line, 1
        assert run_cli([*THREE_GROUPS, "--out", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert "error: adam ran out of memory (MemoryError); use fewer seeds" in err
    else:  # a bug: its traceback, once the finished results are safe
        with pytest.raises(RuntimeError, match="a bug"):
            run_cli([*THREE_GROUPS, "--out", str(tmp_path)])
        err = capsys.readouterr().err
    assert "training failed: 1 of 3 variants trained; skipped adam, momentum." in err
    data = json.loads((tmp_path / "results.json").read_text())
    assert [row["optimizer"] for row in data["summary"]] == ["sgd"]


def test_a_file_that_cannot_be_written_is_one_line_exit_1(
    tmp_path: Path, fake: FakeTraining, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from gradtx.compare import Results

    def disk_full(self: Any, path: Path) -> Path:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(Results, "to_csv", disk_full)
    assert run_cli([*THREE_GROUPS, "--out", str(tmp_path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"gradtx compare: error: cannot write {tmp_path}")
    assert "No space left on device; wrote" in line and "results.json" in line
