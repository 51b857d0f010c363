"""Helpers shared by the building blocks (private)."""

from __future__ import annotations

from typing import Any

from gradtx.core import Params, Updates, check_against_params
from gradtx.errors import check_tree_matches

_STATE_HINT = (
    "The updates must have the structure, shapes and dtypes of the params given "
    "to init(); if the model changed, call init() again."
)


def check_update_inputs(
    updates: Updates,
    params: Params | None,
    moments: Any,
    *,
    name: str,
    dtypes: str = "exact",
) -> None:
    """Trace-time checks of ``update``'s inputs against the state and params.

    Args:
      updates: the incoming updates.
      params: the params, or None.
      moments: a per-parameter state tree built by ``init`` (e.g. ``state.mu``).
      name: how to name ``moments`` in a message (``"scale_by_adam state.nu"``).
      dtypes: how dtypes must agree with ``moments`` (see
        :func:`gradtx.errors.check_tree_matches`).
    """
    check_tree_matches(
        updates,
        moments,
        got_name="updates",
        expected_name=name,
        dtypes=dtypes,
        hint=_STATE_HINT,
    )
    check_against_params(updates, params)
