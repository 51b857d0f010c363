"""Strictness shared by the doctests in ``gradtx/`` and the tests in ``tests/``.

Rank promotion raises everywhere. ``tests/conftest.py`` turns on float64
(``jax_enable_x64``) for the test suite; doctests show what a user sees by
default, so they run with it off, even in a process that collected the tests.
"""

from collections.abc import Iterator

import jax
import pytest
from _pytest.doctest import DoctestItem

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True)
def _doctests_in_default_precision(request: pytest.FixtureRequest) -> Iterator[None]:
    if isinstance(request.node, DoctestItem):
        with jax.enable_x64(False):
            yield
    else:
        yield
