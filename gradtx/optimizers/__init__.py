r"""The optimizers, each a short :func:`~gradtx.chain` of building blocks.

Every optimizer here can be taken apart: its docstring names the chain, and
the state is the tuple of the blocks' states. Where frameworks disagree on a
detail, the default follows the paper, and a keyword gives the other form; the
docstring of each optimizer shows the optax and PyTorch equivalents.

**The registry.** Each optimizer is registered where it is defined, with
``@register(...)``: its optax and PyTorch :class:`Counterpart` s, the test
catalogue's :class:`Example` s and the comparison tool's :class:`Preset` s.
Every list of optimizers is derived from it: the shared test catalogue
(``tests/catalogue/cases.py``: contract, optax parity, in-place step, checkpoint), the
API tests, and ``gradtx compare``'s choices, defaults and optimizer factory;
tests check the exports, the docstrings and the README's tables against it.
:func:`names`, :func:`get`, :func:`info` and :func:`registry` read it:

>>> from gradtx import optimizers
>>> "rmsprop" in optimizers.names()
True
>>> optimizers.get("AdamW") is optimizers.adamw
True
>>> dict(optimizers.info("sgd").optax.gradtx_kwargs)  # optax.sgd's form
{'momentum_after_lr': False}

**Adding an optimizer** touches its building blocks (``gradtx/transforms/``);
its definition and ``@register(...)`` entry, in its family's module here (or a
new one); its exports, here and in ``gradtx/__init__.py``; its name in the
README's API table (and a row of "Where frameworks disagree" where a
counterpart needs arguments); its own tests. A test fails, saying what to add,
when an export, a docstring or the README disagrees with the registry.
"""

from gradtx.optimizers._adagrad import adagrad as adagrad
from gradtx.optimizers._adam import adam as adam
from gradtx.optimizers._adam import adamw as adamw
from gradtx.optimizers._ademamix import ademamix as ademamix
from gradtx.optimizers._adopt import adopt as adopt
from gradtx.optimizers._averaged import asgd as asgd
from gradtx.optimizers._classic_adaptive import adadelta as adadelta
from gradtx.optimizers._classic_adaptive import rprop as rprop
from gradtx.optimizers._info import Counterpart as Counterpart
from gradtx.optimizers._info import Example as Example
from gradtx.optimizers._info import OptimizerInfo as OptimizerInfo
from gradtx.optimizers._info import Preset as Preset
from gradtx.optimizers._layerwise import fromage as fromage
from gradtx.optimizers._layerwise import lamb as lamb
from gradtx.optimizers._layerwise import lars as lars
from gradtx.optimizers._lbfgs import lbfgs as lbfgs
from gradtx.optimizers._memory_light import adafactor as adafactor
from gradtx.optimizers._memory_light import sm3 as sm3
from gradtx.optimizers._muon import muon as muon
from gradtx.optimizers._nesterov_adam import adan as adan
from gradtx.optimizers._nesterov_adam import nadam as nadam
from gradtx.optimizers._nesterov_adam import nadamw as nadamw
from gradtx.optimizers._noise import noisy_sgd as noisy_sgd
from gradtx.optimizers._novograd import novograd as novograd
from gradtx.optimizers._optimistic import optimistic_adam as optimistic_adam
from gradtx.optimizers._optimistic import optimistic_adam_v2 as optimistic_adam_v2
from gradtx.optimizers._optimistic import (
    optimistic_gradient_descent as optimistic_gradient_descent,
)
from gradtx.optimizers._prodigy import prodigy as prodigy
from gradtx.optimizers._rectified import radam as radam
from gradtx.optimizers._registry import get as get
from gradtx.optimizers._registry import info as info
from gradtx.optimizers._registry import names as names
from gradtx.optimizers._registry import register as register
from gradtx.optimizers._registry import registry as registry
from gradtx.optimizers._registry import unregister as unregister
from gradtx.optimizers._rmsprop import rmsprop as rmsprop
from gradtx.optimizers._running_max import adamax as adamax
from gradtx.optimizers._running_max import adamaxw as adamaxw
from gradtx.optimizers._running_max import amsgrad as amsgrad
from gradtx.optimizers._schedule_free import schedule_free_adamw as schedule_free_adamw
from gradtx.optimizers._schedule_free import schedule_free_sgd as schedule_free_sgd
from gradtx.optimizers._second_moment import adabelief as adabelief
from gradtx.optimizers._second_moment import yogi as yogi
from gradtx.optimizers._sgd import sgd as sgd
from gradtx.optimizers._sign import lion as lion
from gradtx.optimizers._sign import sign_sgd as sign_sgd
from gradtx.optimizers._sign import signum as signum
from gradtx.optimizers._step_size import polyak_sgd as polyak_sgd

__all__ = [
    "Counterpart",
    "Example",
    "OptimizerInfo",
    "Preset",
    "adabelief",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adamaxw",
    "adamw",
    "adan",
    "ademamix",
    "adopt",
    "amsgrad",
    "asgd",
    "fromage",
    "get",
    "info",
    "lamb",
    "lars",
    "lbfgs",
    "lion",
    "muon",
    "nadam",
    "nadamw",
    "names",
    "noisy_sgd",
    "novograd",
    "optimistic_adam",
    "optimistic_adam_v2",
    "optimistic_gradient_descent",
    "polyak_sgd",
    "prodigy",
    "radam",
    "register",
    "registry",
    "rmsprop",
    "rprop",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "sgd",
    "sign_sgd",
    "signum",
    "sm3",
    "unregister",
    "yogi",
]
