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


def load(relative: str, expected: tuple[str, ...]) -> types.CodeType:
    """The optax test file ``relative`` (e.g. ``"_src/alias_test.py"``), rewritten.

    Args:
      relative: the file's path inside the optax package.
      expected: the keys of ``REWRITES`` the file must contain, all replaced.

    Returns:
      The rewritten source, compiled with the original file name (tracebacks
      point at optax's file).
    """
    path = OPTAX / relative
    source = path.read_text()
    for line in expected:
        if line not in source:
            raise AssertionError(f"{path} no longer contains {line!r}: update REWRITES")
        source = source.replace(line, REWRITES[line])
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(("from optax", "import optax")):
            raise AssertionError(f"{path}: unrewritten import {stripped!r}")
    return compile(source, str(path), "exec")
