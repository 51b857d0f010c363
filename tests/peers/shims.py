"""optax's module names, pointing at gradtx: what the peer suites import.

A peer suite (an optax test file, shipped in optax's wheel) is run with its
``from optax._src import alias`` lines rewritten to import these shims
instead (see ``peer.py``). Each shim answers the names the suites use:

* the names under test (optimizers, building blocks, wrappers,
  ``apply_updates``, ``inject_hyperparams``, ``MultiSteps``, the line searches,
  ``optax.tree``'s functions) come from gradtx; one gradtx does not have makes
  the test that needs it skip, with the reason;
* the suites' own tools (``test_utils``, ``utils``, ``numerics.abs_sq``, the
  ``base`` type annotations, loss functions used to build problems) stay
  optax's: they are how the suite checks, not what it checks.
"""

from __future__ import annotations

import types
import unittest
from typing import Any

import optax.tree as optax_tree
from optax._src import alias_test as alias_test
from optax._src import base as base
from optax._src import numerics as numerics
from optax._src import test_utils as test_utils
from optax._src import utils as utils
from optax.losses import _classification as _classification

import gradtx


class _Gradtx(types.ModuleType):
    """A module whose attributes are gradtx's, looked up in ``sources``."""

    def __init__(self, name: str, *sources: Any, fallback: Any = None) -> None:
        super().__init__(name)
        self._sources = sources
        self._fallback = fallback

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        for source in self._sources:
            if hasattr(source, attr):
                return getattr(source, attr)
        if self._fallback is not None and hasattr(self._fallback, attr):
            return getattr(self._fallback, attr)
        raise unittest.SkipTest(f"gradtx has no {attr} (optax's {self.__name__})")


# What the suites test: gradtx only.
alias = _Gradtx("alias", gradtx)
transform = _Gradtx("transform", gradtx)
update = _Gradtx("update", gradtx)
combine = _Gradtx("combine", gradtx)
_inject = _Gradtx("_inject", gradtx)
_accumulation = _Gradtx("_accumulation", gradtx)
_linesearch = _Gradtx("_linesearch", gradtx)
_schedule = _Gradtx("_schedule", gradtx.schedules, gradtx)

# optax.tree: gradtx.tree's functions; the suites' helpers gradtx has no
# reason to have (unwrap_random_key_data, batch_shape) stay optax's.
tree = _Gradtx("tree", gradtx.tree, fallback=optax_tree)

# The suites' own tools (imported above) stay optax's: base (type
# annotations), numerics (abs_sq), test_utils, utils, _classification.
