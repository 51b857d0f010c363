"""Optional dependencies: the parts of gradtx that need an extra say which."""

from __future__ import annotations

import importlib.util

__all__ = ["require"]


def require(what: str, extra: str, *modules: str) -> None:
    """Raises a one-line ImportError unless every module in ``modules`` exists.

    Args:
      what: the gradtx module that needs them, e.g. ``"gradtx.nn"``.
      extra: the extra that installs them, e.g. ``"nn"``.
      *modules: top-level module names, e.g. ``"flax"``.

    Raises:
      ImportError: a module is missing; the message names it and the extra.
    """
    missing = [m for m in modules if _missing(m)]
    if missing:
        these = "which is" if len(missing) == 1 else "which are"
        raise ImportError(
            f"{what} needs {', '.join(missing)}, {these} not installed: "
            f"pip install 'gradtx[{extra}]'"
        )


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):  # a parent is missing, or __spec__ is None
        return True
