"""Saves that fail, die or race: the old or the new checkpoint, whole, always.

The SIGKILL test and the race test each run ``tests/scripts/checkpoint_faults.py``
once: it pays for the imports once and forks a child per job. The expected
trees are rebuilt here from their seeds and compared bit for bit.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import subprocess
import sys
import threading
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gradtx import checkpoint
from gradtx.checkpoint import _hooks, _storage
from tests.checkpoint.test_checkpoint import assert_bit_equal
from tests.scripts import checkpoint_faults
from tests.scripts.checkpoint_faults import COMMIT_STAGE, STAGES, tree

SCRIPT = pathlib.Path(checkpoint_faults.__file__)
OLD, NEW, NEXT = 1, 2, 3  # seeds of the trees
RACERS, ROUNDS = (100, 200), 4
TEMPLATE = tree(0)


def bit_equal(a: Any, b: Any) -> bool:
    if jax.tree.structure(a) != jax.tree.structure(b):
        return False
    return all(
        np.asarray(x).dtype == np.asarray(y).dtype
        and np.asarray(x).tobytes() == np.asarray(y).tobytes()
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def data_dirs(step_dir: pathlib.Path) -> set[str]:
    return {p.name for p in step_dir.glob("arrays-*")}


def live_data(step_dir: pathlib.Path) -> set[str]:
    """The data directory the step's tree.json names (none if no tree.json)."""
    record = step_dir / "tree.json"
    if not record.exists():
        return set()
    return {json.loads(record.read_text())["arrays"].split("/")[0]}


def assert_no_garbage(directory: pathlib.Path) -> None:
    for step_dir in directory.iterdir():
        assert data_dirs(step_dir) == live_data(step_dir), step_dir


def snapshot(directory: pathlib.Path) -> list[tuple[str, bytes | None]]:
    return sorted(
        (str(p.relative_to(directory)), p.read_bytes() if p.is_file() else None)
        for p in directory.rglob("*")
    )


# --- SIGKILL at every stage, and racing writers, in forked children ------------


def run_children(jobs: list[dict[str, Any]], root: pathlib.Path) -> list[Any]:
    """Runs the jobs in children of one process; how each child ended."""
    (root / "jobs.json").write_text(json.dumps(jobs))
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[2])}
    cmd = [sys.executable, str(SCRIPT), str(root / "jobs.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout.splitlines()[-1]))


def test_a_kill_at_any_stage_leaves_the_old_or_the_new_checkpoint_whole(
    tmp_path: pathlib.Path,
) -> None:
    """SIGKILL during a new step (4) and an overwrite (3), at every stage."""
    jobs: list[dict[str, Any]] = []
    for mode in ("new", "overwrite"):
        for stage in STAGES:
            d = tmp_path / f"{mode}-{stage}"
            checkpoint.save(d, tree(OLD), step=3)
            step, overwrite = (3, True) if mode == "overwrite" else (4, False)
            jobs.append(
                {"kind": "kill", "dir": str(d), "step": step, "seed": NEW}
                | {"overwrite": overwrite, "stage": stage, "mode": mode}
            )
    problems = []
    for job, end in zip(jobs, run_children(jobs, tmp_path), strict=True):
        try:
            _check_killed(job, end)
        except Exception as e:  # report every stage, not only the first
            problems.append(f"{job['mode']}, killed at {job['stage']!r}: {e!r}")
    assert not problems, "\n".join(problems)


def _check_killed(job: dict[str, Any], end: dict[str, int]) -> None:
    assert end == {"signal": 9}, f"the save never reached the stage: {end}"
    d = pathlib.Path(job["dir"])
    committed = STAGES.index(job["stage"]) >= STAGES.index(COMMIT_STAGE)
    if job["mode"] == "new":  # step 4 appears whole at the commit, or not at all
        expected = {3: tree(OLD), 4: tree(NEW)} if committed else {3: tree(OLD)}
    else:  # step 3 is replaced whole at the commit
        expected = {3: tree(NEW) if committed else tree(OLD)}
    assert checkpoint.latest_step(d) == max(expected)
    for step, want in expected.items():
        assert bit_equal(checkpoint.restore(d, TEMPLATE, step=step), want), step
    if 4 not in expected:
        with pytest.raises(FileNotFoundError, match="interrupted"):
            checkpoint.restore(d, TEMPLATE, step=4)

    # The next saves work, and remove what the dead writer left.
    checkpoint.save(d, tree(NEXT), step=5)
    checkpoint.save(d, tree(NEXT), step=3, overwrite=True)
    for step in (3, 5):
        assert_bit_equal(checkpoint.restore(d, TEMPLATE, step=step), tree(NEXT))
    assert_no_garbage(d)


def test_concurrent_writers_never_mix(tmp_path: pathlib.Path) -> None:
    """Two processes save steps 0..3 to one directory, committing together."""
    jobs = [
        {"kind": "race", "dir": str(tmp_path / f"race-{overwrite}"), "seed": seed}
        | {"rounds": ROUNDS, "overwrite": overwrite}
        | {"out": str(tmp_path / f"race-{overwrite}-{seed}.json")}
        for overwrite in (False, True)
        for seed in RACERS
    ]
    assert run_children(jobs, tmp_path) == [{"exit": 0}] * len(jobs)
    for overwrite in (False, True):
        d = tmp_path / f"race-{overwrite}"
        outcomes = {
            job["seed"]: json.loads(pathlib.Path(job["out"]).read_text())
            for job in jobs
            if job["overwrite"] == overwrite
        }
        for r in range(ROUNDS):
            got = checkpoint.restore(d, TEMPLATE, step=r)
            whole = [seed for seed in RACERS if bit_equal(got, tree(seed + r))]
            assert len(whole) == 1, f"step {r}: no racer's tree, the leaves are mixed"
            results = [outcomes[seed][r] for seed in RACERS]
            if overwrite:  # the last to commit wins
                assert results == ["won", "won"], results
            else:  # exactly one commits; the other is told
                assert sorted(results) == ["exists", "won"], results
                assert whole == [RACERS[results.index("won")]]
        assert_no_garbage(d)


# --- writers in threads of this process ------------------------------------------


@pytest.mark.parametrize("locks", [True, False], ids=["flock", "no_flock"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_running_writer_keeps_its_data_and_commits_whole(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    overwrite: bool,
    locks: bool,
) -> None:
    """A writer held after writing its arrays; another saves meanwhile.

    Without flock (NFS, Lustre) the exclusive commit is os.link's.
    """
    if not locks:
        monkeypatch.setattr(_storage, "fcntl", None)
    held, release = threading.Event(), threading.Event()

    def reached(stage: str) -> None:
        if stage == "arrays" and threading.current_thread().name == "slow":
            held.set()
            assert release.wait(60)

    monkeypatch.setattr(_hooks, "reached", reached)
    outcome: list[BaseException | None] = []

    def slow() -> None:
        try:
            checkpoint.save(tmp_path, tree(NEW), overwrite=overwrite)
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=slow, name="slow")
    thread.start()
    assert held.wait(60)
    checkpoint.save(tmp_path, tree(OLD))  # commits first, collects garbage
    assert len(data_dirs(tmp_path)) == 2  # the slow writer's data is kept
    release.set()
    thread.join(60)
    if overwrite:  # the last to commit wins, whole
        assert outcome == [None]
        assert_bit_equal(checkpoint.restore(tmp_path, TEMPLATE), tree(NEW))
    else:
        assert isinstance(outcome[0], FileExistsError), outcome
        assert_bit_equal(checkpoint.restore(tmp_path, TEMPLATE), tree(OLD))
    assert data_dirs(tmp_path) == live_data(tmp_path)


def test_a_restore_that_races_an_overwrite_returns_the_new_checkpoint(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint.save(tmp_path, tree(OLD))
    overwritten: list[str] = []

    def reached(stage: str) -> None:  # between the checks and orbax's read
        if stage == "verified" and not overwritten:
            overwritten.append(stage)
            checkpoint.save(tmp_path, tree(NEW), overwrite=True)

    monkeypatch.setattr(_hooks, "reached", reached)
    assert_bit_equal(checkpoint.restore(tmp_path, TEMPLATE), tree(NEW))
    assert overwritten


# --- a disk that refuses writes (read-only, full) ------------------------------


def _read_only_mkdir(real: Any) -> Any:
    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if not os.path.exists(path):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real(path, *args, **kwargs)  # an existing directory: EEXIST, as on a RO disk

    return mkdir


def _full_disk_orbax(real: Any) -> Any:
    def save(self: Any, directory: Any, *args: Any, **kwargs: Any) -> None:
        part = pathlib.Path(str(directory) + ".partial")
        part.mkdir(parents=True)
        (part / "0.0").write_bytes(b"\0" * 10)  # what a full disk leaves half done
        raise OSError(errno.ENOSPC, "No space left on device", str(part / "0.0"))

    return save


def _fails(err: int) -> Any:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(err, os.strerror(err))

    return lambda real: fail


FAILURES = {  # where the disk says no: (object, attribute, replacement, errno)
    "mkdir": (os, "mkdir", _read_only_mkdir, errno.EROFS),
    "orbax": (ocp.Checkpointer, "save", _full_disk_orbax, errno.ENOSPC),
    "fsync": (os, "fsync", _fails(errno.ENOSPC), errno.ENOSPC),
    "rename": (os, "replace", _fails(errno.EROFS), errno.EROFS),
}


@pytest.mark.parametrize("new_step", [False, True], ids=["overwrite", "new_step"])
@pytest.mark.parametrize("where", list(FAILURES))
def test_a_refused_write_leaves_the_old_checkpoint_and_no_debris(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, where: str, new_step: bool
) -> None:
    checkpoint.save(tmp_path, tree(OLD), step=3)
    before = snapshot(tmp_path)
    obj, name, replacement, err = FAILURES[where]
    monkeypatch.setattr(obj, name, replacement(getattr(obj, name)))
    step = 4 if new_step else 3
    with pytest.raises(OSError) as info:
        checkpoint.save(tmp_path, tree(NEW), step=step, overwrite=True)
    monkeypatch.undo()
    assert info.value.errno == err
    assert str(tmp_path / str(step)) in str(info.value)  # which checkpoint
    assert "Nothing was changed" in str(info.value)
    assert snapshot(tmp_path) == before  # bit for bit, and nothing left behind
    assert checkpoint.latest_step(tmp_path) == 3
    assert_bit_equal(checkpoint.restore(tmp_path, TEMPLATE, step=3), tree(OLD))
    checkpoint.save(tmp_path, tree(NEW), step=step, overwrite=True)  # works again
    assert_bit_equal(checkpoint.restore(tmp_path, TEMPLATE, step=step), tree(NEW))


@pytest.mark.parametrize(
    "stage", ["locked", "arrays", "staged", "committed", "cleaned"]
)
def test_an_interrupt_at_any_stage_leaves_the_old_or_the_new_checkpoint(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """Ctrl-C in the middle of a save: the cleanup runs, and is careful."""
    checkpoint.save(tmp_path, tree(OLD), step=3)

    def reached(name: str) -> None:
        if name == stage:
            raise KeyboardInterrupt

    monkeypatch.setattr(_hooks, "reached", reached)
    for step in (3, 4):  # an overwrite, a new step
        with pytest.raises(KeyboardInterrupt):
            checkpoint.save(tmp_path, tree(NEW), step=step, overwrite=True)
    monkeypatch.undo()
    committed = stage in ("committed", "cleaned")
    expected = tree(NEW) if committed else tree(OLD)
    assert_bit_equal(checkpoint.restore(tmp_path, TEMPLATE, step=3), expected)
    assert checkpoint.latest_step(tmp_path) == (4 if committed else 3)
    steps = sorted(p.name for p in tmp_path.iterdir())
    assert steps == (["3", "4"] if committed else ["3"])  # no empty step 4
    checkpoint.save(tmp_path, tree(NEXT), step=3, overwrite=True)
    assert_no_garbage(tmp_path)
