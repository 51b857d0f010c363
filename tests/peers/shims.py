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

import importlib
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
    """A module whose attributes are gradtx's, looked up in ``sources``
    (modules, or the names of modules, imported at the first lookup)."""

    def __init__(self, name: str, *sources: Any, fallback: Any = None) -> None:
        super().__init__(name)
        self._sources = sources
        self._fallback = fallback

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        for source in self._sources:
            if isinstance(source, str):
                try:
                    source = importlib.import_module(source)
                except ImportError:
                    continue
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
_join = _Gradtx("_join", gradtx.schedules, gradtx)
schedules = _Gradtx("schedules", gradtx.schedules, gradtx)
transforms = _Gradtx("transforms", gradtx)
wrappers = _Gradtx("wrappers", gradtx)
factorized = _Gradtx("factorized", gradtx)
lookahead = _Gradtx("lookahead", gradtx)
_adding = _Gradtx("_adding", gradtx)
_clipping = _Gradtx("_clipping", gradtx)
_combining = _Gradtx("_combining", gradtx)
_conditionality = _Gradtx("_conditionality", gradtx)
_constraining = _Gradtx("_constraining", gradtx)
_freezing = _Gradtx("_freezing", gradtx)
_layouts = _Gradtx("_layouts", gradtx)
_masking = _Gradtx("_masking", gradtx, gradtx.tree)
_monitoring = _Gradtx("_monitoring", gradtx)
# Suites whose subject is a module optax's other suites use as a tool.
base_under_test = _Gradtx("base", gradtx)
numerics_under_test = _Gradtx("numerics", gradtx.numerics, gradtx)
utils_under_test = _Gradtx("utils", gradtx, "gradtx.linalg")
loss_fns = _Gradtx("_classification", gradtx.losses)
linear_algebra = _Gradtx("linear_algebra", "gradtx.linalg")
microbatching = _Gradtx("microbatching", "gradtx.microbatching")
projections = _Gradtx("projections", "gradtx.projections")
assignment = _Gradtx("assignment", "gradtx.assignment")
_make_pert = _Gradtx("_make_pert", "gradtx.perturbations")
tree_utils = _Gradtx("tree_utils", gradtx.tree_utils)
_regression = _Gradtx("_regression", gradtx.losses)
_self_supervised = _Gradtx("_self_supervised", gradtx.losses)
_smoothing = _Gradtx("_smoothing", gradtx.losses)
_segmentation = _Gradtx("_segmentation", gradtx.losses)
_ranking = _Gradtx("_ranking", gradtx.losses)
_fenchel_young = _Gradtx("_fenchel_young", gradtx.losses)
optax_namespace = _Gradtx("optax", gradtx)
contrib = _Gradtx("contrib", gradtx.contrib)
_muon = _Gradtx("_muon", gradtx)
_reduce_on_plateau = _Gradtx("_reduce_on_plateau", gradtx)
_sam = _Gradtx("_sam", gradtx)
_schedule_free = _Gradtx("_schedule_free", gradtx)
_state_utils = _Gradtx("_state_utils", gradtx.tree_utils, gradtx)
_random = _Gradtx("_random", gradtx.tree_utils)

# optax.tree: gradtx.tree's functions; the suites' helpers gradtx has no
# reason to have (unwrap_random_key_data, batch_shape) stay optax's.
tree = _Gradtx("tree", gradtx.tree, fallback=optax_tree)

# The suites' own tools (imported above) stay optax's: base (type
# annotations), numerics (abs_sq), test_utils, utils, _classification.
