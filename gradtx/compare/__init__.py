"""Compare training techniques side by side on real data: the main job.

``python -m gradtx compare`` trains a small network on scikit-learn's digits
with every classic optimizer and three seeds, and prints a table and saves a
figure. From Python::

    from gradtx import compare
    results = compare.run(compare.grid(optimizer=["sgd", "adam"]), seeds=3)
    print(results.table())
    results.plot("compare.png")

Seeds and learning-rate / weight-decay grids of one structure train together
in one vectorized program; see :func:`run`.

The command line is :func:`main` (``main(["compare", "--epochs", "3"])``
returns the exit status) and :func:`main_entry`, which exits with it: the
``gradtx`` console script and ``python -m gradtx`` call it.
"""

from gradtx._internal.extras import require

require("gradtx.compare", "compare", "sklearn", "matplotlib", "flax")

from gradtx.compare._cli import main as main
from gradtx.compare._cli import main_entry as main_entry
from gradtx.compare._results import Results as Results
from gradtx.compare._run import run as run
from gradtx.compare._tasks import TASKS as TASKS
from gradtx.compare._tasks import Task as Task
from gradtx.compare._tasks import load_task as load_task
from gradtx.compare._train import make_optimizer as make_optimizer
from gradtx.compare._variants import OPTIMIZERS as OPTIMIZERS
from gradtx.compare._variants import Variant as Variant
from gradtx.compare._variants import grid as grid
from gradtx.compare._variants import load_config as load_config

__all__ = [
    "OPTIMIZERS",
    "TASKS",
    "Results",
    "Task",
    "Variant",
    "grid",
    "load_config",
    "load_task",
    "main",
    "main_entry",
    "make_optimizer",
    "run",
]
