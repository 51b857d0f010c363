"""The stages of a save and a restore, as a hook the fault tests replace."""

from __future__ import annotations


def reached(stage: str) -> None:
    """Called when a save or a restore reaches ``stage``; does nothing.

    A save passes, in order: ``"validated"`` (nothing written yet),
    ``"locked"`` (its private data directory exists), ``"arrays"`` (orbax has
    written the arrays there), ``"staged"`` (files hashed and synced, the new
    ``tree.json`` written beside them), ``"committed"`` (``tree.json`` renamed
    into place: the new checkpoint is the one on disk) and ``"cleaned"`` (old
    data removed, just before returning). A restore passes ``"verified"``
    (checksums checked, before orbax reads).

    ``tests/scripts/checkpoint_faults.py`` replaces this function to kill the process
    with SIGKILL at a stage, or to hold two writers at the same stage.
    """
    del stage
