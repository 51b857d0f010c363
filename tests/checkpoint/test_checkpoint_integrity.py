"""Checkpoint integrity: damage is named, never restored; what cannot be saved
is refused before anything is written; zero-size leaves and every dtype orbax
writes round trip; checkpoints of format version 1 still restore."""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gradtx import checkpoint
from gradtx.checkpoint import _restore
from tests.checkpoint.test_checkpoint import assert_bit_equal
from tests.scripts.checkpoint_faults import tree

Corrupt = checkpoint.CheckpointCorruptError


def _flip(file: pathlib.Path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= mask
    file.write_bytes(bytes(data))


def _leaf_paths(t: Any) -> list[str]:
    return ["tree" + jax.tree_util.keystr(p) for p, _ in jax.tree.leaves_with_path(t)]


def test_a_changed_byte_in_any_file_is_named_before_orbax_reads(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tree(1)
    path = checkpoint.save(tmp_path, saved)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    # Every kind of file: the record, orbax's metadata, each leaf's zarr
    # metadata and its chunks.
    assert {"tree.json", "_METADATA", ".zarray", "0", "0.0"} <= {f.name for f in files}
    leaf_paths = _leaf_paths(saved)
    monkeypatch.setattr(_restore, "ocp", None)  # orbax must not be reached
    for file in files:
        _flip(file, file.stat().st_size // 2)
        with pytest.raises(Corrupt) as info:
            checkpoint.restore(path, saved)
        msg = str(info.value)
        assert msg.startswith(f"{file} is damaged"), msg
        top = file.relative_to(path).parts
        if top[0] != "tree.json" and top[2].isdigit():  # arrays-*/orbax/<i>/...
            assert f"It holds the array of {leaf_paths[int(top[2])]}." in msg
        elif top[0] != "tree.json":
            assert "It holds orbax's metadata for every leaf." in msg
        _flip(file, file.stat().st_size // 2)  # undo
    monkeypatch.undo()
    assert_bit_equal(checkpoint.restore(path, tree(0)), saved)


def test_a_missing_or_truncated_file_is_named(tmp_path: pathlib.Path) -> None:
    saved = {"w": np.arange(100, dtype=np.float64)}
    path = checkpoint.save(tmp_path, saved)
    chunk = next(path.glob("arrays-*/orbax/0/0"))
    data = chunk.read_bytes()
    chunk.write_bytes(data[:-3])
    size = f"it has {len(data) - 3} bytes, {len(data)} were saved"
    with pytest.raises(Corrupt, match=re.escape(f"{chunk} is damaged: {size}")):
        checkpoint.restore(path, saved)
    chunk.unlink()
    with pytest.raises(Corrupt, match=re.escape(f"{chunk} is damaged: it is missing")):
        checkpoint.restore(path, saved)


def _canonical(body: dict[str, Any]) -> bytes:
    """tree.json's documented form: sorted keys, indent 1, ASCII, a newline."""
    return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()


def _resealed(raw: bytes, **changes: Any) -> bytes:
    """The record with ``changes``, and a checksum that matches them."""
    body = {k: v for k, v in json.loads(raw).items() if k != "checksum"}
    body.update(changes)
    body["checksum"] = "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()
    return _canonical(body)


RECORDS = {  # how tree.json is damaged -> what the error says
    "empty": (lambda raw: b"", "not valid JSON"),
    "half": (lambda raw: raw[: len(raw) // 2], "not valid JSON"),
    "last byte cut": (lambda raw: raw[:-2], "not valid JSON"),
    "not UTF-8": (lambda raw: b"\xff" + raw, "not valid JSON"),
    "a list": (lambda raw: b"[]", "not a gradtx checkpoint record"),
    "another format": (
        lambda raw: raw.replace(b"gradtx.checkpoint", b"other.checkpoint"),
        "not a gradtx checkpoint record",
    ),
    "a changed value": (
        lambda raw: raw.replace(b'"float32"', b'"float64"', 1),
        "its checksum does not match",
    ),
    "a changed space": (
        lambda raw: raw.replace(b"\n ", b"\n\t", 1),
        "its text differs from the text gradtx wrote",
    ),
    "no checksum": (
        lambda raw: _canonical(
            {k: v for k, v in json.loads(raw).items() if k != "checksum"}
        ),
        "it has no checksum",
    ),
    "version 1 with a checksum": (
        lambda raw: _resealed(raw, version=1),
        "malformed",
    ),
    "malformed leaves": (lambda raw: _resealed(raw, leaves=5), "malformed"),
    "a path outside": (
        lambda raw: _resealed(raw, arrays="../elsewhere"),
        "malformed.*bad arrays directory",
    ),
}


@pytest.mark.parametrize("damage", list(RECORDS))
def test_a_damaged_record_is_named(tmp_path: pathlib.Path, damage: str) -> None:
    saved = {"w": np.ones(3, np.float32)}
    path = checkpoint.save(tmp_path, saved)
    record = path / "tree.json"
    change, what = RECORDS[damage]
    record.write_bytes(change(record.read_bytes()))
    with pytest.raises(
        Corrupt, match=f"^{re.escape(str(record))} is damaged: .*{what}"
    ) as info:
        checkpoint.restore(path, saved)
    assert not isinstance(info.value, json.JSONDecodeError)


def test_a_newer_format_asks_for_a_newer_gradtx(tmp_path: pathlib.Path) -> None:
    saved = {"w": np.ones(3, np.float32)}
    path = checkpoint.save(tmp_path, saved)
    record = path / "tree.json"
    record.write_bytes(_resealed(record.read_bytes(), version=3))
    with pytest.raises(ValueError, match=r"version-3 .* Upgrade gradtx"):
        checkpoint.restore(path, saved)


def test_verify_false_skips_the_file_checksums(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tree(1)
    path = checkpoint.save(tmp_path, saved)

    def no_hashing(*args: Any) -> None:
        raise AssertionError("a file was hashed")

    monkeypatch.setattr(hashlib, "file_digest", no_hashing)
    assert_bit_equal(checkpoint.restore(path, tree(0), verify=False), saved)
    with pytest.raises(AssertionError, match="hashed"):
        checkpoint.restore(path, tree(0))


# --- what can be saved ------------------------------------------------------------


def test_zero_size_leaves_round_trip_onto_every_kind_of_target(
    tmp_path: pathlib.Path,
) -> None:
    saved = {
        "a": jnp.zeros((0, 3), jnp.float32),
        "b": np.zeros((2, 0), np.int8),
        "c": jnp.zeros((0,), jnp.bfloat16),
        "d": jnp.arange(3.0),
    }
    checkpoint.save(tmp_path, {"w": jnp.ones(2)})
    checkpoint.save(tmp_path, saved, overwrite=True)  # the overwrite of issue 14
    assert_bit_equal(checkpoint.restore(tmp_path, saved), saved)
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    jax_leaves = {k: v for k, v in saved.items() if k != "b"}
    placed = {**jax.device_put(jax_leaves, device), "b": saved["b"]}
    abstract = {**jax.eval_shape(lambda: jax_leaves), "b": saved["b"]}
    for target, committed in ((saved, False), (placed, True), (abstract, False)):
        got = checkpoint.restore(tmp_path, target)
        for k in jax_leaves:
            assert got[k].committed == committed, k
            assert got[k].sharding == device, k
        assert type(got["b"]) is np.ndarray and got["b"].shape == (2, 0)


def _is_scalar_type(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, np.generic)


DTYPES = [
    *map(np.dtype, ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16"]),
    *map(np.dtype, ["uint32", "uint64", "float16", "float32", "float64"]),
    *map(np.dtype, ["complex64", "complex128", np.longdouble, np.clongdouble]),
    *(np.dtype(t) for t in vars(ml_dtypes).values() if _is_scalar_type(t)),
    np.dtype("U3"),
    np.dtype("datetime64[s]"),
    np.dtype(object),
]
NEVER = {"str96", "datetime64[s]", "object"}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_each_dtype_round_trips_or_is_refused_before_writing(
    tmp_path: pathlib.Path, dtype: np.dtype[Any]
) -> None:
    old = {"x": np.arange(3, dtype=np.int32)}
    checkpoint.save(tmp_path, old)
    before = sorted(
        (p, p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*")
    )
    value = np.array([1, 0, 1]).astype(dtype)
    try:
        checkpoint.save(tmp_path, {"x": value}, overwrite=True)
    except TypeError as e:
        assert f"tree['x'] has dtype {dtype.name}, which orbax" in str(e)
        after = sorted(
            (p, p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*")
        )
        assert after == before  # nothing touched
        assert_bit_equal(checkpoint.restore(tmp_path, old), old)
        return
    assert dtype.name not in NEVER
    assert_bit_equal(checkpoint.restore(tmp_path, {"x": value}), {"x": value})


def test_python_numbers_round_trip_as_numpy_arrays(tmp_path: pathlib.Path) -> None:
    saved = {"b": True, "i": -3, "f": 0.1, "c": 1 - 2j}
    checkpoint.save(tmp_path, saved)
    got = checkpoint.restore(tmp_path, saved)
    for k, v in saved.items():
        assert np.asarray(got[k]).tobytes() == np.asarray(v).tobytes(), k


def test_deleted_arrays_and_non_arrays_are_refused_before_writing(
    tmp_path: pathlib.Path,
) -> None:
    donated = jnp.ones(3)
    donated.delete()
    with pytest.raises(ValueError, match=r"tree\['w'\] is a deleted array"):
        checkpoint.save(tmp_path / "a", {"w": donated, "b": jnp.ones(2)})
    with pytest.raises(TypeError, match=r"tree\[1\] is a str, not an array"):
        checkpoint.save(tmp_path / "b", [jnp.ones(2), "text"])
    assert not list(tmp_path.iterdir())  # nothing created


# --- format version 1 --------------------------------------------------------------


def _save_version_1(path: pathlib.Path, saved: dict[str, Any]) -> None:
    """What gradtx wrote before checksums: OCDBT arrays in arrays/, no digests."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(saved)
    arrays = {str(i): np.asarray(x) for i, (_, x) in enumerate(leaves)}
    with ocp.PyTreeCheckpointer() as checkpointer:
        checkpointer.save(path / "arrays", args=ocp.args.PyTreeSave(arrays))
    layout = [
        {
            "keys": [jax.tree_util.keystr((k,)) for k in p],
            "nodes": ["dict"] * len(p),
            "shape": list(np.shape(x)),
            "dtype": str(np.asarray(x).dtype),
        }
        for p, x in leaves
    ]
    meta = {"format": "gradtx.checkpoint", "version": 1, "step": None}
    meta |= {"treedef": str(treedef), "leaves": layout}
    (path / "tree.json").write_text(json.dumps(meta, indent=1))


def test_version_1_checkpoints_restore_and_are_replaced_cleanly(
    tmp_path: pathlib.Path,
) -> None:
    old = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array(7, np.int32),
    }
    _save_version_1(tmp_path, old)
    assert_bit_equal(checkpoint.restore(tmp_path, old), old)
    new = {"a": np.ones((2, 3), np.float32), "b": np.array(8, np.int32)}
    checkpoint.save(tmp_path, new, overwrite=True)
    assert_bit_equal(checkpoint.restore(tmp_path, old), new)
    assert not (tmp_path / "arrays").exists()  # the old data is removed
