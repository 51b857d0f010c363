"""What the optimizer registry holds about each optimizer (see ``__init__.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gradtx.core import GradientTransformation

__all__ = ["Counterpart", "Example", "Optimizer", "OptimizerInfo", "Preset"]

Optimizer = Callable[..., GradientTransformation]


def _frozen(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(kwargs))


@dataclasses.dataclass(frozen=True)
class Counterpart:
    """The same optimizer in another library.

    ``name(lr, **kw)`` there is ``gradtx.<optimizer>(lr, **kw,
    **gradtx_kwargs)``: ``gradtx_kwargs`` are the gradtx arguments that
    reproduce the other library's defaults where gradtx's differ (gradtx
    follows the paper). Arguments the other library names differently (PyTorch's
    ``lr``, ``alpha``, ``betas``) are explained in the optimizer's docstring.

    Attributes:
      name: the other library's function or class in full, e.g.
        ``"optax.sgd"`` or ``"torch.optim.SGD"``.
      gradtx_kwargs: gradtx keyword arguments (empty: the defaults agree).

    Example:
      >>> from gradtx import optimizers
      >>> c = optimizers.info("sgd").optax
      >>> c.name, dict(c.gradtx_kwargs)
      ('optax.sgd', {'momentum_after_lr': False})
    """

    name: str
    gradtx_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gradtx_kwargs", _frozen(self.gradtx_kwargs))


@dataclasses.dataclass(frozen=True)
class Example:
    """Hyperparameters that the shared test catalogue builds an optimizer with.

    Every example of every registered optimizer runs through the contract
    tests (jit, vmap, dtypes, state structure, gradients through ``update``),
    the in-place step and checkpoint tests, and, with ``parity``, against the
    optax counterpart for many steps.

    Attributes:
      name: the catalogue's name for it, unique among all examples (e.g.
        ``"adam_schedule_nesterov"``).
      kwargs: the optimizer's keyword arguments, ``learning_rate`` included.
      parity: compare with the optax counterpart (where there is one), called
        with ``kwargs`` less the counterpart's ``gradtx_kwargs``. False for a
        form optax does not have (the paper's, where optax differs; PyTorch's).
      scheduled: arguments the catalogue replaces by a decaying schedule that
        starts at their value in ``kwargs``.

    Example:
      >>> from gradtx.optimizers import Example
      >>> Example("adam_schedule", {"learning_rate": 0.05},
      ...         scheduled=("learning_rate",)).parity
      True
    """

    name: str
    kwargs: Mapping[str, Any]
    parity: bool = True
    scheduled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", _frozen(self.kwargs))
        object.__setattr__(self, "scheduled", tuple(self.scheduled))


@dataclasses.dataclass(frozen=True)
class Preset:
    """One choice of the comparison tool: ``gradtx compare --optimizers NAME``.

    Attributes:
      name: the choice's name in the tool and its tables, unique among all
        presets (``"momentum"`` is SGD with momentum 0.9).
      learning_rate: the peak learning rate it is compared at when none is
        given; the tool passes it as the optimizer's first argument
        (``polyak_sgd``'s ``max_learning_rate``).
      weight_decay: its weight decay when none is given: decoupled if the
        optimizer has ``decoupled_weight_decay``, else an L2 term added to
        the gradient (biases and norm scales are never decayed).
      kwargs: the optimizer's other arguments, e.g. ``{"momentum": 0.9}``.
      default_run: whether ``gradtx compare`` without ``--optimizers`` trains
        it (the seven classic choices do; every other one is run by name).

    Example:
      >>> from gradtx.optimizers import Preset
      >>> Preset("momentum", 0.05, kwargs={"momentum": 0.9}).weight_decay
      0.0
    """

    name: str
    learning_rate: float
    weight_decay: float = 0.0
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    default_run: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", _frozen(self.kwargs))


@dataclasses.dataclass(frozen=True)
class OptimizerInfo:
    """What gradtx knows about a registered optimizer (see :func:`register`).

    Attributes:
      name: the optimizer's name, ``gradtx.<name>``.
      fn: the optimizer: ``fn(learning_rate, ...)`` returns a
        :class:`~gradtx.GradientTransformation`.
      year: the year of the update rule's reference (in the docstring's
        References); the registry lists optimizers by it, classic first.
      optax: optax's counterpart, or None.
      pytorch: PyTorch's counterpart, or None.
      complex_params: whether it takes complex params.
      decoupled_weight_decay: it takes ``weight_decay`` and ``mask`` arguments
        and applies the decay itself, decoupled from the gradient (AdamW).
      examples: the test catalogue's :class:`Example` s (at least one).
      presets: the comparison tool's :class:`Preset` s (none: not compared).
      eval_params: ``eval_params(state, params)``, the params to evaluate the
        model at, where they are not the ones the optimizer steps (the
        schedule-free average, ASGD's average); None: the params.

    Example:
      >>> from gradtx import optimizers
      >>> entry = optimizers.info("adamw")
      >>> entry.year, entry.decoupled_weight_decay, entry.pytorch.name
      (2019, True, 'torch.optim.AdamW')
    """

    name: str
    fn: Optimizer
    year: int
    optax: Counterpart | None
    pytorch: Counterpart | None
    complex_params: bool
    decoupled_weight_decay: bool
    examples: tuple[Example, ...]
    presets: tuple[Preset, ...]
    eval_params: Callable[[Any, Any], Any] | None = None
