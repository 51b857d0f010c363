"""Hypothesis fuzz of the checkpoint paths.

Random pytrees (nested dicts, lists and tuples with ``None`` leaves; JAX and
NumPy arrays of float32, float64, bfloat16, complex64, int32 and bool, shapes
``()`` and zero-size included; Python numbers) must round trip through
``save`` and ``restore`` bit for bit, with the target's leaf types. Then one
byte of one file of the checkpoint, any file at any offset, is changed, and
``restore`` must raise ``CheckpointCorruptError`` naming that file: never
return values.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gradtx import checkpoint

SETTINGS = settings(
    max_examples=int(os.environ.get("GRADTX_FUZZ_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DTYPES = [jnp.float32, jnp.float64, jnp.bfloat16, jnp.complex64, jnp.int32, jnp.bool_]
SHAPES = st.lists(st.integers(0, 3), max_size=3).map(tuple)
ARRAY = st.tuples(st.just("array"), SHAPES, st.sampled_from(DTYPES), st.booleans())
NUMBER = st.one_of(
    st.booleans(), st.integers(-(2**31), 2**31 - 1), st.floats(), st.complex_numbers()
)


def trees() -> st.SearchStrategy[Any]:
    """Trees of array specs, Python numbers and None."""
    keys = st.sampled_from(["a", "b", "kernel", "bias", "mu"])
    return st.recursive(
        st.one_of(ARRAY, ARRAY, NUMBER, st.none()),
        lambda c: st.one_of(
            st.dictionaries(keys, c, max_size=3),
            st.lists(c, max_size=3),
            st.lists(c, max_size=3).map(tuple),
        ),
        max_leaves=6,
    )


def _is_spec(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) == 4 and x[0] == "array"


def realize(specs: Any, seed: int) -> Any:
    """Random bits for every array spec (NaN payloads and all): JAX or NumPy."""
    rng = np.random.default_rng(seed)

    def make(s: Any) -> Any:
        if not _is_spec(s):
            return s
        _, shape, dtype, use_jax = s
        dtype = np.dtype(dtype)
        if dtype == np.bool_:
            x = rng.random(shape) < 0.5
        else:
            x = rng.bytes(int(np.prod(shape)) * dtype.itemsize)
            x = np.frombuffer(x, dtype).reshape(shape)
        return jnp.asarray(x) if use_jax else x

    return jax.tree.map(make, specs, is_leaf=_is_spec)


def assert_restored(got: Any, saved: Any) -> None:
    """``saved``'s structure and bits; Python numbers come back as NumPy."""
    assert jax.tree.structure(got) == jax.tree.structure(saved)
    for g, s in zip(jax.tree.leaves(got), jax.tree.leaves(saved), strict=True):
        assert type(g) is (
            type(s) if isinstance(s, jax.Array | np.ndarray) else np.ndarray
        )
        s = np.asarray(s)
        assert g.dtype == s.dtype and g.shape == s.shape
        assert np.asarray(g).tobytes() == s.tobytes()


@SETTINGS
@given(specs=trees(), seed=st.integers(0, 2**16), data=st.data())
def test_random_trees_round_trip_and_any_changed_byte_is_named(
    specs: Any, seed: int, data: Any
) -> None:
    saved = realize(specs, seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = checkpoint.save(tmp, saved, step=seed)
        assert_restored(checkpoint.restore(tmp, saved, step=seed), saved)

        files = sorted(p for p in path.rglob("*") if p.is_file() and p.stat().st_size)
        file: pathlib.Path = data.draw(st.sampled_from(files), label="file")
        offset = data.draw(st.integers(0, file.stat().st_size - 1), label="offset")
        mask = data.draw(st.integers(1, 255), label="xor")
        content = bytearray(file.read_bytes())
        content[offset] ^= mask
        file.write_bytes(bytes(content))
        with pytest.raises(checkpoint.CheckpointCorruptError) as info:
            checkpoint.restore(tmp, saved, step=seed)
        assert str(info.value).startswith(f"{file} is damaged"), str(info.value)
