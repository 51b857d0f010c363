"""``tree.json``, the record that makes a checkpoint: layout and checksums.

The record lists every leaf (path, containers, shape, dtype), the directory
that holds the arrays, and every file in it with its size and SHA-256. It
carries a checksum of itself: the SHA-256 of its own text without that field.
It is written in one canonical form (sorted keys, indent 1, ASCII), so any
changed byte, even in whitespace, is found.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import pathlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from gradtx.checkpoint._layout import Leaf, path_of

FORMAT = "gradtx.checkpoint"
VERSION = 2  # 1: no checksums, arrays in "arrays/" (OCDBT); 2: this module
RECORD = "tree.json"
_HASH = "sha256"
_ARRAYS = re.compile(r"arrays-[0-9a-f]{32}/orbax")
_HEX = re.compile(r"[0-9a-f]{64}")
_FIX = "Restore another step (see latest_step) or save this one again."
T = TypeVar("T")
R = TypeVar("R")


class CheckpointCorruptError(ValueError):
    """A checkpoint's files are not the bytes that :func:`save` wrote.

    The message names the damaged file and the leaves it holds. Raised by
    :func:`restore` before orbax reads anything, so a flipped bit never
    becomes a wrong value. It subclasses :class:`ValueError`.

    Example:
      >>> import pathlib, tempfile
      >>> import numpy as np
      >>> from gradtx import checkpoint
      >>> tree = {"w": np.arange(4, dtype=np.float32)}
      >>> path = checkpoint.save(tempfile.mkdtemp(), tree)
      >>> chunk = next(path.glob("arrays-*/orbax/0/0"))  # the array of tree['w']
      >>> data = bytearray(chunk.read_bytes())
      >>> data[-1] ^= 1
      >>> _ = chunk.write_bytes(bytes(data))
      >>> checkpoint.restore(path, tree)
      Traceback (most recent call last):
        ...
      gradtx.checkpoint.CheckpointCorruptError: .../orbax/0/0 is damaged: its
      SHA-256 differs from the one saved... It holds the array of tree['w']...
    """

    __module__ = "gradtx.checkpoint"  # where users import it from


class Record(NamedTuple):
    """A parsed ``tree.json``."""

    version: int
    leaves: list[Leaf]
    arrays: str | None  # the orbax directory, relative to the checkpoint's
    files: list[dict[str, Any]]  # {"path", "leaf", "size", "sha256"}; v1: none


def _canonical(body: dict[str, Any]) -> bytes:
    return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("ascii")


def _checksum(body: dict[str, Any]) -> str:
    rest = {k: v for k, v in body.items() if k != "checksum"}
    return f"{_HASH}:{hashlib.sha256(_canonical(rest)).hexdigest()}"


def encode(
    step: int | None,
    treedef: str,
    leaves: list[Leaf],
    arrays: str | None,
    files: list[dict[str, Any]],
) -> bytes:
    """The text of a version-2 ``tree.json``."""
    body = {
        "format": FORMAT,
        "version": VERSION,
        "step": step,
        "treedef": treedef,
        "leaves": leaves,
        "arrays": arrays,
        "files": files,
    }
    body["checksum"] = _checksum(body)
    return _canonical(body)


def data_dir_of(raw: bytes) -> str | None:
    """The data directory a record's arrays live in, or None (no exceptions)."""
    try:
        arrays = json.loads(raw).get("arrays", "arrays")
    except (ValueError, AttributeError):
        return None
    if arrays == "arrays" or (isinstance(arrays, str) and _ARRAYS.fullmatch(arrays)):
        return str(arrays).split("/")[0]
    return None


def decode(raw: bytes, file: pathlib.Path) -> Record:
    """Parses and checks a record; any damage is a CheckpointCorruptError."""

    def damaged(what: str) -> CheckpointCorruptError:
        return CheckpointCorruptError(f"{file} is damaged: {what}. {_FIX}")

    try:
        body = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise damaged(
            f"it is not valid JSON ({e}); a copy cut short or a full disk truncates it"
        ) from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        fmt = body.get("format") if isinstance(body, dict) else type(body).__name__
        raise damaged(f"it is not a gradtx checkpoint record (format {fmt!r})")
    version = body.get("version")
    if "checksum" in body:
        if body["checksum"] != _checksum(body):
            raise damaged("its checksum does not match its contents")
        if raw != _canonical(body):
            raise damaged("its text differs from the text gradtx wrote")
        if not isinstance(version, int) or version < VERSION:  # 1 has no checksum
            raise damaged(f"malformed (version {version!r} with a checksum)")
        if version > VERSION:
            raise ValueError(
                f"{file} is a version-{version} gradtx checkpoint; this gradtx "
                f"reads versions 1 and {VERSION}. Upgrade gradtx to restore it."
            )
    elif version != 1:  # only version 1, which predates checksums, has none
        raise damaged(f"it has no checksum (version {version!r})")
    try:
        return _parse(body)
    except (KeyError, TypeError, ValueError) as e:
        raise damaged(f"malformed ({e})") from None


def _parse(body: dict[str, Any]) -> Record:
    leaves = body["leaves"]
    for leaf in leaves:
        for field in ("keys", "nodes"):
            if not all(isinstance(k, str) for k in leaf[field]):
                raise ValueError(f"leaf {field} are not strings")
        if not all(isinstance(d, int) and d >= 0 for d in leaf["shape"]):
            raise ValueError(f"bad shape {leaf['shape']!r}")
        if not isinstance(leaf["dtype"], str):
            raise ValueError(f"bad dtype {leaf['dtype']!r}")
    if body["version"] == 1:
        return Record(1, leaves, "arrays", [])
    arrays, files = body["arrays"], body["files"]
    if arrays is not None and not _ARRAYS.fullmatch(arrays):
        raise ValueError(f"bad arrays directory {arrays!r}")
    for f in files:
        parts = pathlib.PurePosixPath(f["path"]).parts
        if not parts or parts[0] == "/" or ".." in parts:
            raise ValueError(f"bad file path {f['path']!r}")
        leaf = f["leaf"]
        if leaf is not None and not (isinstance(leaf, int) and 0 <= leaf < len(leaves)):
            raise ValueError(f"bad leaf index {f['leaf']!r}")
        if not isinstance(f["size"], int) or not _HEX.fullmatch(f[_HASH]):
            raise ValueError(f"bad size or checksum for {f['path']!r}")
    return Record(2, leaves, arrays, files)


def _digest(file: pathlib.Path, sync: bool) -> tuple[int, str]:
    with open(file, "rb") as f:
        digest = hashlib.file_digest(f, _HASH).hexdigest()
        if sync:
            os.fsync(f.fileno())
        return os.fstat(f.fileno()).st_size, digest


def _map(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """``fn`` over ``items`` in threads: hashlib releases the GIL."""
    if len(items) < 2:
        return [fn(x) for x in items]
    workers = min(8, os.cpu_count() or 1, len(items))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def hash_files(
    root: pathlib.Path, leaf_of: Callable[[str], int | None]
) -> list[dict[str, Any]]:
    """Size and SHA-256 of every file under ``root``, each synced to disk."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    sums = _map(lambda p: _digest(p, sync=True), files)
    entries = []
    for file, (size, digest) in zip(files, sums, strict=True):
        rel = file.relative_to(root).as_posix()
        entries.append({"path": rel, "leaf": leaf_of(rel), "size": size, _HASH: digest})
    return entries


def _check(root: pathlib.Path, entry: dict[str, Any]) -> str:
    """What is wrong with one file ("" if nothing)."""
    try:
        size, digest = _digest(root / entry["path"], sync=False)
    except FileNotFoundError:
        return "it is missing"
    if size != entry["size"]:
        return f"it has {size} bytes, {entry['size']} were saved (truncated?)"
    if digest != entry[_HASH]:
        return "its SHA-256 differs from the one saved (a changed byte)"
    return ""


def verify(root: pathlib.Path, record: Record) -> None:
    """Checks every file of ``record`` under ``root``: size and SHA-256.

    Raises:
      CheckpointCorruptError: naming the first damaged file and its leaf.
    """
    problems = _map(lambda e: _check(root, e), record.files)
    for entry, problem in zip(record.files, problems, strict=True):
        if problem:
            leaf = entry["leaf"]
            holds = (
                f"the array of {path_of(record.leaves[leaf])}"
                if leaf is not None
                else "orbax's metadata for every leaf"
            )
            raise CheckpointCorruptError(
                f"{root / entry['path']} is damaged: {problem}. It holds {holds}. "
                f"{_FIX}"
            )
