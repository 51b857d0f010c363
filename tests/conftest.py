"""Strict JAX settings for the test suite.

Rank promotion raises (set in the top-level conftest; a silent broadcast of
mismatched ranks is a classic optimizer bug), and float64 is available so that
float64 parameters are tested. Every gradtx counter is created with an
explicit int32 dtype and every state leaf with its parameter's dtype, so x64
mode must not change gradtx's state layout or promote float32 to float64:
running the whole suite under x64 checks exactly that.
"""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_enable_x64", True)

# Scripts run in a subprocess with their own XLA flags, not importable here.
collect_ignore_glob = ["scripts/*.py"]
