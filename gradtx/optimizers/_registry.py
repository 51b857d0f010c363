"""The optimizer registry: :func:`register` records, the lookups read.

What an entry holds is in ``_info.py``; what is derived from the registry, and
what adding an optimizer touches, in the package's docstring. Entries are
checked when they are registered, at import, so a typo in an example or a
preset fails at once rather than in a test that forgot the optimizer.

Example:
  >>> from gradtx import optimizers
  >>> optimizers.info("adagrad").optax.gradtx_kwargs["eps_in_sqrt"]
  True
  >>> [p.name for p in optimizers.info("sgd").presets]
  ['sgd', 'momentum', 'nesterov']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from gradtx._internal import validate
from gradtx.optimizers._info import (
    Counterpart,
    Example,
    Optimizer,
    OptimizerInfo,
    Preset,
)

__all__ = ["get", "info", "names", "register", "registry", "unregister"]

F = TypeVar("F", bound=Optimizer)

_REGISTRY: dict[str, OptimizerInfo] = {}
# registry()'s last answer, and the entries it was computed from (held, so
# that comparing them by identity is sound).
_ORDERED: tuple[tuple[OptimizerInfo, ...], Mapping[str, OptimizerInfo]] = (
    (),
    MappingProxyType({}),
)


def register(
    *,
    year: int,
    optax: Counterpart | None,
    pytorch: Counterpart | None,
    examples: Sequence[Example],
    presets: Sequence[Preset],
    complex_params: bool = True,
    decoupled_weight_decay: bool = False,
    eval_params: Callable[[Any, Any], Any] | None = None,
) -> Callable[[F], F]:
    """Registers the decorated optimizer under its function's name.

    Every entry is checked here, when the module defining the optimizer is
    imported: a name registered twice, an example or preset name used twice,
    or keyword arguments the optimizer does not take fail at once.

    Args:
      year: the year of the update rule's reference.
      optax: optax's counterpart, or None (a required choice: the examples run
        against it).
      pytorch: PyTorch's counterpart, or None.
      examples: hyperparameters for the shared test catalogue (at least one).
      presets: the comparison tool's choices; ``()`` keeps it out of the tool.
      complex_params: whether it takes complex params.
      decoupled_weight_decay: it applies a decoupled ``weight_decay`` itself
        (and takes a ``mask``).
      eval_params: ``eval_params(state, params)``: the params to evaluate at,
        where they are not the stepped ones (schedule-free, ASGD); the
        comparison tool tests with them.

    Returns:
      A decorator that records the optimizer and returns it unchanged.

    Raises:
      ValueError: a name already taken, no example, or an invalid value.
      TypeError: keyword arguments the optimizer does not take, or a year
        that is not an int.

    Example:
      >>> import gradtx
      >>> from gradtx.optimizers import Example, register
      >>> @register(year=2026, optax=None, pytorch=None,
      ...           examples=[Example("plain_sgd", {"learning_rate": 0.1})],
      ...           presets=[])
      ... def plain_sgd(learning_rate):
      ...     "SGD without momentum."
      ...     return gradtx.scale_by_learning_rate(learning_rate)
      >>> "plain_sgd" in gradtx.optimizers.names()
      True
      >>> _ = gradtx.optimizers.unregister("plain_sgd")
    """

    def decorate(fn: F) -> F:
        entry = OptimizerInfo(
            name=fn.__name__,
            fn=fn,
            year=year,
            optax=optax,
            pytorch=pytorch,
            complex_params=complex_params,
            decoupled_weight_decay=decoupled_weight_decay,
            examples=tuple(examples),
            presets=tuple(presets),
            eval_params=eval_params,
        )
        _check_entry(entry)
        _REGISTRY[entry.name] = entry
        if fn.__doc__ is not None:  # (re-registered: the section is replaced)
            doc = fn.__doc__.split(_COUNTERPARTS, 1)[0].rstrip()
            fn.__doc__ = doc + _counterparts_section(entry)
        return fn

    return decorate


_COUNTERPARTS = (
    "Counterparts (from the optimizer registry, ``gradtx.optimizers.info``):"
)


def _counterparts_section(entry: OptimizerInfo) -> str:
    """The docstring's last section, written from the entry: each library's
    counterpart and the gradtx arguments that give its form."""

    def line(library: str, side: Counterpart | None) -> str:
        if side is None:
            return f"{library}: none registered (the text above says why)."
        ours = f"gradtx.{entry.name}"
        if side.gradtx_kwargs:
            kw = ", ".join(f"{k}={v!r}" for k, v in side.gradtx_kwargs.items())
            ours = f"{ours}(..., {kw})"
        names = " (PyTorch's argument names: see above)" if library == "PyTorch" else ""
        return f"{library}: ``{side.name}`` at its defaults is ``{ours}``{names}."

    lines = [
        "",
        "",
        f"    {_COUNTERPARTS}",
        f"      {line('optax', entry.optax)}",
        f"      {line('PyTorch', entry.pytorch)}",
        "",
    ]
    return "\n".join(lines)


def _check_entry(entry: OptimizerInfo) -> None:
    """Raises if ``entry`` clashes with the registry or does not fit ``fn``.

    A domain check (tests/test_layering.py): names against the registry's,
    keyword arguments against the optimizer's signature. Messages name
    ``register(<name>)``.
    """
    fn = f"register({entry.name})"
    if entry.name in _REGISTRY:
        raise validate.error(
            ValueError, fn, f"an optimizer named {entry.name!r} is registered."
        )
    validate.plain_number(fn, "year", entry.year, integer=True, rule="an int")
    if not entry.examples:
        raise validate.error(
            ValueError,
            fn,
            f"give at least one Example, e.g. Example({entry.name!r}, "
            "{'learning_rate': 0.01}), so that the test catalogue runs it.",
        )
    signature = inspect.signature(entry.fn)

    def fits(
        what: str, kwargs: Mapping[str, Any], complete: bool = True, *args: Any
    ) -> None:
        try:
            (signature.bind if complete else signature.bind_partial)(*args, **kwargs)
        except TypeError as err:
            takes = ", ".join(signature.parameters)
            raise validate.error(
                TypeError, fn, f"{what}: {err}. {entry.name} takes: {takes}."
            ) from None

    for side in (entry.optax, entry.pytorch):
        if side is not None:
            fits(f"Counterpart({side.name!r})", side.gradtx_kwargs, complete=False)
    if entry.decoupled_weight_decay:
        fits("decoupled_weight_decay", {"weight_decay": 0.0, "mask": None}, False)
    for ex in entry.examples:
        fits(f"Example({ex.name!r})", ex.kwargs)
    extra = {"weight_decay": 0.0} if entry.decoupled_weight_decay else {}
    for p in entry.presets:  # the rate is the first argument (polyak_sgd's
        # is max_learning_rate): the comparison tool passes it by position
        fits(f"Preset({p.name!r})", {**p.kwargs, **extra}, True, 1.0)

    taken = {e.name for other in _REGISTRY.values() for e in other.examples}
    optax_form = entry.optax.gradtx_kwargs if entry.optax else {}
    for ex in entry.examples:
        if ex.name in taken:
            raise validate.error(
                ValueError, fn, f"the example name {ex.name!r} is taken."
            )
        taken.add(ex.name)
        if missing := set(ex.scheduled) - set(ex.kwargs):
            raise validate.error(
                ValueError,
                fn,
                f"Example({ex.name!r}) schedules {sorted(missing)}, which it gives "
                "no value: a schedule starts at the given value.",
            )
        for key, value in optax_form.items():
            if ex.parity and key in ex.kwargs and ex.kwargs[key] != value:
                raise validate.error(
                    ValueError,
                    fn,
                    f"Example({ex.name!r}) claims parity with optax, but sets "
                    f"{key}={ex.kwargs[key]!r} where optax's form is {key}={value!r}; "
                    "give parity=False.",
                )

    taken = {p.name for other in _REGISTRY.values() for p in other.presets}
    for p in entry.presets:
        if p.name in taken:
            raise validate.error(
                ValueError, fn, f"the preset name {p.name!r} is taken."
            )
        taken.add(p.name)
        validate.plain_number(
            fn,
            f"Preset({p.name!r}) learning_rate",
            p.learning_rate,
            low=0.0,
            low_open=True,
        )
        validate.plain_number(
            fn, f"Preset({p.name!r}) weight_decay", p.weight_decay, low=0.0
        )


def registry() -> Mapping[str, OptimizerInfo]:
    """Every registered optimizer by name, classic first (by year, then name).

    Returns:
      A read-only mapping from name to :class:`OptimizerInfo`.

    Example:
      >>> from gradtx import optimizers
      >>> optimizers.registry()["adamw"].decoupled_weight_decay
      True
    """
    global _ORDERED
    entries = tuple(_REGISTRY.values())
    held, ordered = _ORDERED
    if len(held) != len(entries) or any(
        a is not b for a, b in zip(held, entries, strict=True)
    ):
        by_year = sorted(entries, key=lambda i: (i.year, i.name))
        ordered = MappingProxyType({i.name: i for i in by_year})
        _ORDERED = (entries, ordered)
    return ordered


def names() -> tuple[str, ...]:
    """The registered optimizers' names, classic first (by year, then name).

    Example:
      >>> from gradtx import optimizers
      >>> optimizers.names()[0]  # Polyak 1964
      'sgd'
    """
    return tuple(registry())


def info(name: str) -> OptimizerInfo:
    """The registry's entry for the optimizer called ``name``.

    Names match as in gradtx's other registries: exactly, then
    case-insensitively with ``-`` read as ``_``.

    Raises:
      ValueError: an unknown name; the message suggests the closest.
      TypeError: ``name`` is not a string.

    Example:
      >>> from gradtx import optimizers
      >>> optimizers.info("AdamW").pytorch.name
      'torch.optim.AdamW'
    """
    return validate.lookup("optimizers.get", "optimizer", name, registry())


def get(name: str) -> Optimizer:
    """The optimizer called ``name``: ``get("adam")`` is :func:`gradtx.adam`.

    For optimizers chosen in a config file; names match as in :func:`info`.

    Raises:
      ValueError: an unknown name; the message suggests the closest.
      TypeError: ``name`` is not a string.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import optimizers
      >>> tx = optimizers.get("sgd")(0.1)
      >>> tx.update(jnp.array([2.0]), tx.init(jnp.array([1.0])))[0]
      Array([-0.2], dtype=float32)
      >>> optimizers.get("adma")
      Traceback (most recent call last):
      ...
      ValueError: optimizers.get: unknown optimizer 'adma'. Did you mean ...'adam'...
    """
    return info(name).fn


def unregister(name: str) -> OptimizerInfo:
    """Removes an optimizer from the registry; returns its entry.

    For experiments and tests: the function stays importable, but the lists
    derived from the registry (the test catalogue, the comparison tool's
    choices) no longer show it.

    Raises:
      ValueError: an unknown name; the message suggests the closest.

    Example:
      >>> import gradtx
      >>> from gradtx import optimizers
      >>> @optimizers.register(year=2026, optax=None, pytorch=None, presets=[],
      ...     examples=[optimizers.Example("slow_sgd", {"learning_rate": 0.1})])
      ... def slow_sgd(learning_rate):
      ...     "SGD at a tenth of the learning rate."
      ...     return gradtx.sgd(learning_rate / 10)
      >>> optimizers.unregister("slow_sgd").name
      'slow_sgd'
      >>> "slow_sgd" in optimizers.names()
      False
    """
    return _REGISTRY.pop(info(name).name)
