"""Runs an optax test file against gradtx, through an import rewrite.

``load(relative_path)`` reads the file from optax's installed package (its
tests ship in the wheel), replaces its ``from optax._src import X`` (and
similar) lines by imports of ``tests.peers.shims`` and returns the rewritten
source, compiled, for the calling test module to execute in its own globals:
the suite's test classes then belong to that module and pytest collects them.
A line the rewrite expects and does not find fails loudly (a new optax
version changed the file), instead of silently testing optax.
"""

from __future__ import annotations

import pathlib
import types

import optax

OPTAX = pathlib.Path(optax.__file__).resolve().parent

# Lines as optax's test files write them -> their gradtx version.
REWRITES = {
    "from optax import contrib": "from tests.peers.shims import contrib",
    "from optax.tree_utils import _random": "from tests.peers.shims import _random",
    "from optax.tree_utils import _state_utils": (
        "from tests.peers.shims import _state_utils"
    ),
    "from optax.contrib import _muon": "from tests.peers.shims import _muon",
    "from optax.contrib import _reduce_on_plateau": (
        "from tests.peers.shims import _reduce_on_plateau"
    ),
    "from optax.contrib import _sam": "from tests.peers.shims import _sam",
    "from optax.contrib import _schedule_free": (
        "from tests.peers.shims import _schedule_free"
    ),
    "from optax import assignment": "from tests.peers.shims import assignment",
    "from optax import projections as proj": (
        "from tests.peers.shims import projections as proj"
    ),
    "from optax import projections": "from tests.peers.shims import projections",
    "from optax import tree_utils as otu": (
        "from tests.peers.shims import tree_utils as otu"
    ),
    "from optax import tree_utils as tu": (
        "from tests.peers.shims import tree_utils as tu"
    ),
    "from optax.perturbations import _make_pert": (
        "from tests.peers.shims import _make_pert"
    ),
    "import optax.microbatching._microbatching as microbatching": (
        "from tests.peers.shims import microbatching"
    ),
    "from optax.losses import _regression": "from tests.peers.shims import _regression",
    "from optax.losses import _self_supervised": (
        "from tests.peers.shims import _self_supervised"
    ),
    "from optax.losses import _smoothing": "from tests.peers.shims import _smoothing",
    "from optax.losses import _segmentation": (
        "from tests.peers.shims import _segmentation"
    ),
    "from optax.losses import _ranking": "from tests.peers.shims import _ranking",
    "from optax.losses import _fenchel_young": (
        "from tests.peers.shims import _fenchel_young"
    ),
    "from optax import microbatching": "from tests.peers.shims import microbatching",
    "from optax import schedules": "from tests.peers.shims import schedules",
    "from optax import transforms": "from tests.peers.shims import transforms",
    "from optax import tree": "from tests.peers.shims import tree",
    "from optax._src import combine": "from tests.peers.shims import combine",
    "from optax._src import factorized": "from tests.peers.shims import factorized",
    "from optax._src import linear_algebra": (
        "from tests.peers.shims import linear_algebra"
    ),
    "from optax._src import lookahead": "from tests.peers.shims import lookahead",
    "from optax._src import wrappers": "from tests.peers.shims import wrappers",
    "from optax.schedules import _join": "from tests.peers.shims import _join",
    "from optax.transforms import _adding": ("from tests.peers.shims import _adding"),
    "from optax.transforms import _clipping": (
        "from tests.peers.shims import _clipping"
    ),
    "from optax.transforms import _combining": (
        "from tests.peers.shims import _combining"
    ),
    "from optax.transforms import _conditionality": (
        "from tests.peers.shims import _conditionality"
    ),
    "from optax.transforms import _constraining": (
        "from tests.peers.shims import _constraining"
    ),
    "from optax.transforms import _freezing": (
        "from tests.peers.shims import _freezing"
    ),
    "from optax.transforms import _layouts": ("from tests.peers.shims import _layouts"),
    "from optax.transforms import _masking": ("from tests.peers.shims import _masking"),
    "from optax.transforms import _monitoring": (
        "from tests.peers.shims import _monitoring"
    ),
    "from optax._src import alias": "from tests.peers.shims import alias",
    "from optax._src import alias_test": "from tests.peers.shims import alias_test",
    "from optax._src import base": "from tests.peers.shims import base",
    "from optax._src import linesearch as _linesearch": (
        "from tests.peers.shims import _linesearch"
    ),
    "from optax._src import numerics": "from tests.peers.shims import numerics",
    "from optax._src import test_utils": "from tests.peers.shims import test_utils",
    "from optax._src import transform": "from tests.peers.shims import transform",
    "from optax._src import update": "from tests.peers.shims import update",
    "from optax._src import utils": "from tests.peers.shims import utils",
    "from optax.losses import _classification": (
        "from tests.peers.shims import _classification"
    ),
    "from optax.schedules import _inject": "from tests.peers.shims import _inject",
    "from optax.schedules import _schedule": "from tests.peers.shims import _schedule",
    "from optax.transforms import _accumulation": (
        "from tests.peers.shims import _accumulation"
    ),
    "import optax.tree": "from tests.peers import shims as optax",
}


def load(
    relative: str,
    expected: tuple[str, ...],
    overrides: dict[str, str] | None = None,
) -> types.CodeType:
    """The optax test file ``relative`` (e.g. ``"_src/alias_test.py"``), rewritten.

    Args:
      relative: the file's path inside the optax package.
      expected: the keys of ``REWRITES`` the file must contain, all replaced.
      overrides: this file's own rewrites of some of those lines (a module
        that is a tool in other suites is the one under test in this one).

    Returns:
      The rewritten source, compiled with the original file name (tracebacks
      point at optax's file).
    """
    path = OPTAX / relative
    source = path.read_text()
    for line in expected:
        if line not in source:
            raise AssertionError(f"{path} no longer contains {line!r}: update REWRITES")
        source = source.replace(line, {**REWRITES, **(overrides or {})}[line])
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(("from optax", "import optax")):
            raise AssertionError(f"{path}: unrewritten import {stripped!r}")
    return compile(source, str(path), "exec")
