"""Writing the results: whole files or none, into a directory checked first."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from gradtx._internal import validate

__all__ = ["atomic_write", "prepare_dir", "remove_empty"]


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Opens a temporary file next to ``path`` and renames it onto ``path``
    when the block ends without an error.

    An error or a Ctrl-C in the block (or a crash) leaves ``path`` as it was
    (absent, or the previous complete file), never half written; the
    temporary file is removed. ``kwargs`` go to :func:`open`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), **kwargs) as f:  # honours umask
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def prepare_dir(path: Path, names: Sequence[str] = ()) -> list[Path]:
    """Creates the directory ``path`` (the command line's ``--out``) and
    checks that files can be written in it, by writing and removing a probe
    file: every way that writing the results could fail is found before any
    training.

    Args:
      path: the directory.
      names: the files that will be written there; none may be a directory.

    Returns:
      The directories it created, deepest first (to remove if nothing ends up
      written in them).

    Raises:
      ValueError: ``path`` is a file or lies under one, cannot be created, or
        cannot be written to; one line that names the path and the problem, as
        argparse names a flag: ``argument --out: '/x' is a file; ...``.
    """
    fn, where = "argument --out", repr(str(path))
    try:
        if path.exists() and not path.is_dir():
            raise validate.error(
                ValueError, fn, f"{where} is a file; give a directory for the results."
            )
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise validate.error(
                    ValueError,
                    fn,
                    f"{where} lies under {str(parent)!r}, which is a file; give a "
                    "directory for the results.",
                )
        missing = [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise validate.error(
            ValueError, fn, f"{where} cannot be created: {err.strerror or err}."
        ) from None
    for name in names:
        if (path / name).is_dir():
            remove_empty(missing)
            raise validate.error(
                ValueError,
                fn,
                f"{where} holds a directory {name!r} where the results go; "
                "move it or choose another --out.",
            )
    probe = path / f".gradtx-probe-{secrets.token_hex(4)}"
    try:
        probe.write_bytes(b"gradtx")
        probe.unlink()
    except OSError as err:
        with contextlib.suppress(OSError):
            probe.unlink()
        remove_empty(missing)
        raise validate.error(
            ValueError, fn, f"{where} cannot be written to: {err.strerror or err}."
        ) from None
    return missing


def remove_empty(dirs: Sequence[Path]) -> None:
    """Removes the given directories, deepest first, where they are empty."""
    for d in dirs:
        with contextlib.suppress(OSError):
            d.rmdir()
