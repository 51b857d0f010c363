"""The README's quick-start example runs and trains."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_quick_start_trains_to_a_small_loss() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), {})
    loss = float(out.getvalue().split()[-1])
    # The initial loss is (0 - 2)^2 = 4; the least-squares optimum is 0.
    assert loss < 1e-3


def test_real_training_example_runs_two_optimizer_steps() -> None:
    text = README.read_text().split("## Real training runs", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    lr, steps = out.getvalue().split()
    # 8 mini-batches, k=4: two Adam steps; the schedule's value at step 1 is
    # 1e-2 * 1/10 (linear warmup from 0 over 10 steps).
    assert int(steps) == 2
    assert abs(float(lr) - 1e-3) < 1e-9


def test_readme_commands_are_the_ci_commands() -> None:
    text = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'python -m pip install -e ".[test]" && python -m pytest -n auto' in text
    assert 'python -m pip install -e ".[test]"' in ci
    assert "python -m pytest -n auto" in ci
    assert 'python -m pip install -e ".[compare]" && python -m gradtx compare' in text


def test_layers_example_trains_a_flax_model_with_gradtx_nn() -> None:
    text = README.read_text().split("## Layers: Dropout and BatchNorm", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    loss, shape = out.getvalue().split(" ", 1)
    # The target sum(x) has variance 8; a fitted model is far below that.
    assert float(loss) < 1.0, loss
    assert shape.strip() == "(32, 1)"


def test_augmentation_example_runs_a_batched_jitted_chain() -> None:
    text = README.read_text().split("## Data augmentation", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    assert out.getvalue().strip() == "(256, 32, 32, 3) True"


def test_comparison_example_runs_and_prints_a_table() -> None:
    text = README.read_text().split("## The comparison tool", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[-1] == "(4, 2, 3)"
    assert (
        sum(ln.startswith("| momentum") or ln.startswith("| sgd") for ln in lines) == 4
    )


def test_readme_figure_exists() -> None:
    assert (README.parent / "docs" / "compare.png").stat().st_size > 10_000


def test_initializers_and_activations_example() -> None:
    text = README.read_text().split("## Initializers and activations by name", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    assert out.getvalue().strip() == "(4, 16) [1.0, 1.0]"


def test_writing_your_own_transformation_example() -> None:
    text = README.read_text().split("## Writing your own transformation", 1)[1]
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    # First step: m = |u|, so u / (|u| + eps) = sign(u) (0 for u = 0); the
    # clip does not act (norm 0.56 < 1); the learning rate scales by -0.1.
    # Printed from bfloat16: -0.1 rounds to -0.100098.
    values = [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", out.getvalue())]
    assert values == [-0.100098, 0.100098, 0.0], out.getvalue()
