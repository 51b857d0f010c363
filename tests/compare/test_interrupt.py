"""Ctrl-C keeps what the command line computed (issue 14).

The first Ctrl-C finishes the group that trains, writes every finished variant
and exits 130 without a traceback; the handler never raises while training
(a KeyboardInterrupt inside XLA's compiler can crash the process at exit).
Training is faked except in the last two tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradtx
from tests.compare.helpers import FILES, THREE_GROUPS, FakeTraining, run_cli


def press_ctrl_c(during_group: int, times: int = 1) -> Callable[[int], None]:
    def hook(group: int) -> None:
        if group == during_group and times and not hook.done:  # type: ignore[attr-defined]
            hook.done = True  # type: ignore[attr-defined]
            for _ in range(times):
                signal.raise_signal(signal.SIGINT)

    hook.done = False  # type: ignore[attr-defined]
    return hook


def test_ctrl_c_finishes_the_group_writes_it_and_exits_130(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.hook = press_ctrl_c(during_group=2)
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 130 and "Traceback" not in err
    # The press did not raise inside the group (where XLA may be compiling):
    # adam finished, momentum never started.
    assert fake.groups == fake.finished == ["sgd", "adam"]
    assert "stopped by Ctrl-C: 2 of 3 variants trained; skipped momentum." in err
    assert set(os.listdir(tmp_path)) == FILES
    data = json.loads((tmp_path / "results.json").read_text())
    assert [row["optimizer"] for row in data["summary"]] == ["sgd", "adam"]
    assert np.asarray(data["curves"]["test_accuracy"]).shape == (2, 2, 2)
    assert "| sgd " in out and "| adam " in out and "momentum" not in out


def test_second_ctrl_c_drops_the_group_at_the_end_of_its_epoch(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.hook = press_ctrl_c(during_group=2, times=2)
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 130 and "Traceback" not in err
    assert fake.groups == ["sgd", "adam"] and fake.finished == ["sgd"]
    assert "1 of 3 variants trained; skipped adam, momentum." in err
    data = json.loads((tmp_path / "results.json").read_text())
    assert [row["optimizer"] for row in data["summary"]] == ["sgd"]


def test_ctrl_c_in_the_first_group_twice_writes_nothing_and_cleans_up(
    tmp_path: Path, fake: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.hook = press_ctrl_c(during_group=1, times=2)
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path / "new")])
    err = capsys.readouterr().err
    assert status == 130 and "Traceback" not in err
    assert (
        "0 of 3 variants trained; skipped sgd, adam, momentum; nothing written" in err
    )
    assert not (tmp_path / "new").exists()


def test_third_ctrl_c_quits_at_once(
    tmp_path: Path, fake: FakeTraining, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    class Quit(BaseException):
        pass

    def quit_now(status: int) -> None:
        raise Quit(status)

    monkeypatch.setattr(os, "_exit", quit_now)
    fake.hook = press_ctrl_c(during_group=1, times=3)
    with pytest.raises(Quit) as quit_info:
        run_cli([*THREE_GROUPS, "--out", str(tmp_path / "new")])
    assert quit_info.value.args == (130,)
    assert "quitting at once" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()  # the empty --out is removed first


def test_ctrl_c_while_writing_leaves_no_half_written_file(
    tmp_path: Path, fake: FakeTraining, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import matplotlib.figure

    (tmp_path / "results.json").write_text('{"old": true}')  # a previous run's

    def savefig(self: Any, fname: Any, **kwargs: Any) -> None:
        with open(fname, "wb") if isinstance(fname, str | Path) else fname as f:
            f.write(b"\x89PNG half")
        signal.raise_signal(signal.SIGINT)  # finishing the files ...
        signal.raise_signal(signal.SIGINT)  # ... no: stop now

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    status = run_cli([*THREE_GROUPS, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 130 and "Traceback" not in err
    assert "stopped while writing: wrote nothing; not written:" in err
    assert os.listdir(tmp_path) == ["results.json"]  # no png, no temporary file
    assert (tmp_path / "results.json").read_text() == '{"old": true}'
    # Into a new directory: nothing written, so no empty directory is left.
    assert run_cli([*THREE_GROUPS, "--out", str(tmp_path / "new")]) == 130
    assert not (tmp_path / "new").exists()


def test_handler_is_installed_for_the_run_only(
    tmp_path: Path, fake: FakeTraining
) -> None:
    def mine(signum: int, frame: Any) -> None:
        raise AssertionError("the CLI's handler should have taken this")

    previous = signal.signal(signal.SIGINT, mine)
    try:
        fake.hook = press_ctrl_c(during_group=3)
        assert run_cli([*THREE_GROUPS, "--out", str(tmp_path)]) == 130
        assert signal.getsignal(signal.SIGINT) is mine
        assert run_cli([*THREE_GROUPS, "--seeds", "0"]) == 2
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_ignored_sigint_stays_ignored(tmp_path: Path, fake: FakeTraining) -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup
    try:
        fake.hook = press_ctrl_c(during_group=1)
        assert run_cli([*THREE_GROUPS, "--out", str(tmp_path)]) == 0
        assert fake.finished == ["sgd", "adam", "momentum"]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_train_group_stops_only_between_epochs() -> None:
    from gradtx import compare
    from gradtx.compare._train import Stopped, train_group

    task = compare.load_task("breast_cancer")
    asked: list[int] = []
    epochs_done: list[int] = []

    def stop() -> bool:
        asked.append(len(epochs_done))
        return len(epochs_done) == 1

    with pytest.raises(Stopped):
        train_group(task, compare.Variant(dropout=0.3), np.array([[3e-3, 0, 0.3, 0]]),
                    np.array([0]), epochs=2, batch_size=32, stop=stop,
                    progress=lambda done, secs: epochs_done.append(done))  # fmt: skip
    assert asked == [0, 1] and epochs_done == [1]  # before the group, after epoch 1


def test_ctrl_c_end_to_end_in_a_real_process(tmp_path: Path) -> None:
    # A real process, real training: Ctrl-C arrives as the first group starts
    # (a terminal sends it to the whole process), so the first group finishes,
    # is written, and the second never starts.
    script = tmp_path / "press.py"
    script.write_text(
        textwrap.dedent("""
        import os, signal, sys, time
        from gradtx.compare import _cli, _run

        # As in a terminal, even if this test runs where SIGINT is ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        real = _run.train_group

        def first_group_interrupted(*args, **kwargs):
            if not getattr(first_group_interrupted, "pressed", False):
                first_group_interrupted.pressed = True
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
            return real(*args, **kwargs)

        _run.train_group = first_group_interrupted
        sys.argv[0] = "gradtx"
        _cli.main_entry()
    """)
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(script), "compare", "--task", "wine", "--optimizers",
         "sgd", "adam", "--seeds", "1", "--epochs", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ,
        "PYTHONPATH": str(Path(gradtx.__file__).parents[1])},  # this gradtx
    )  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert "stopped by Ctrl-C: 1 of 2 variants trained; skipped adam." in done.stderr
    assert set(os.listdir(out)) == FILES
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert [row["optimizer"] for row in summary] == ["sgd"]
