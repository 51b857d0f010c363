"""The ``hyperparams`` dict of :func:`inject_hyperparams`' states.

A dict of scalar arrays that also carries, as static pytree data, which
entries are schedules and the factory's checks, so that
:func:`gradtx.tree_set` refuses what the factory would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np

from gradtx._internal import validate

__all__ = ["InjectedHyperparams", "Rules", "as_number"]


_SCHEDULED = (
    "{name} is a schedule in this inject_hyperparams({fn}) state: its value is "
    "recomputed from the step count at every step, so a value set here would "
    "be overwritten by the next step. To change a schedule, rebuild the "
    "optimizer with the new schedule and carry the state over (e.g. "
    "tree_set(new_tx.init(params), count=tree_get(state, 'count'))), or "
    "multiply it by an injected factor: chain(inject_hyperparams({fn})(...), "
    "inject_hyperparams(gradtx.scale)(step_size=1.0)) and set step_size."
)


class Rules:
    """How :func:`gradtx.tree_set` checks new hyperparameter values.

    Static pytree data of :class:`InjectedHyperparams`. Two are equal when they
    have the same names and the same scheduled names, whatever the factory:
    optimizers rebuilt inside a jitted step (a closure made anew at each call)
    keep one state structure.
    """

    __slots__ = ("build", "fn", "names", "scheduled")

    def __init__(
        self,
        fn: str,
        names: tuple[str, ...],
        scheduled: tuple[str, ...],
        build: Callable[[dict[str, Any]], Any],
    ) -> None:
        self.fn, self.names, self.scheduled, self.build = fn, names, scheduled, build

    def _key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.names, self.scheduled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rules) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<inject_hyperparams({self.fn}) scheduled={list(self.scheduled)}>"


class InjectedHyperparams(dict[str, Any]):
    """The ``hyperparams`` dict of an :class:`InjectHyperparamsState`.

    A plain dict of scalar arrays for every use (read, log, assign), and a
    pytree like a dict (same keys and paths); it also carries, as static data,
    which entries are schedules and the factory's checks, so that
    :func:`gradtx.tree_set` refuses a value the factory would refuse and a
    value for a schedule (which the next step would overwrite).
    """

    rules: Rules | None = None

    def checked_replace(
        self, changes: dict[str, Any], given: dict[str, Any]
    ) -> InjectedHyperparams:
        """A copy with ``changes`` (names to new arrays), checked as at build.

        ``given`` holds the values as the user gave them (Python numbers stay
        concrete inside a jit trace, where their arrays may not be).
        """
        out = InjectedHyperparams({**self, **changes})
        out.rules = rules = self.rules
        if rules is None:
            return out
        for name in changes:
            if name in rules.scheduled:
                text = _SCHEDULED.format(name=name, fn=rules.fn)
                raise validate.error(ValueError, "tree_set", text)
        values = {k: as_number(given.get(k, v)) for k, v in out.items()}
        try:
            rules.build(values)
        except (ValueError, TypeError) as e:
            shown = ", ".join(f"{k}={values[k]!r}" for k in changes)
            raise type(e)(f"tree_set({shown}): {e}") from None
        return out


def as_number(x: Any) -> Any:
    """A concrete scalar as a Python number (for messages and checks)."""
    if isinstance(x, jax.core.Tracer) or np.ndim(x) != 0:
        return x
    return np.asarray(x).item()


def _flatten_with_keys(
    h: InjectedHyperparams,
) -> tuple[list[tuple[Any, Any]], tuple[tuple[str, ...], Rules | None]]:
    keys = tuple(sorted(h))
    children = [(jax.tree_util.DictKey(k), h[k]) for k in keys]
    return children, (keys, h.rules)


def _unflatten(
    aux: tuple[tuple[str, ...], Rules | None], children: Iterable[Any]
) -> InjectedHyperparams:
    keys, rules = aux
    out = InjectedHyperparams(zip(keys, children, strict=True))
    out.rules = rules
    return out


jax.tree_util.register_pytree_with_keys(
    InjectedHyperparams,
    _flatten_with_keys,
    _unflatten,
    lambda h: ([h[k] for k in sorted(h)], (tuple(sorted(h)), h.rules)),
)
