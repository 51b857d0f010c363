"""Strictness shared by the doctests in ``gradtx/`` and the tests in ``tests/``."""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
