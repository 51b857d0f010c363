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
from gradtx.optimizers._info import Counterpart as Counterpart
from gradtx.optimizers._info import Example as Example
from gradtx.optimizers._info import OptimizerInfo as OptimizerInfo
from gradtx.optimizers._info import Preset as Preset
from gradtx.optimizers._registry import get as get
from gradtx.optimizers._registry import info as info
from gradtx.optimizers._registry import names as names
from gradtx.optimizers._registry import register as register
from gradtx.optimizers._registry import registry as registry
from gradtx.optimizers._registry import unregister as unregister
from gradtx.optimizers._rmsprop import rmsprop as rmsprop
from gradtx.optimizers._sgd import sgd as sgd

__all__ = [
    "Counterpart",
    "Example",
    "OptimizerInfo",
    "Preset",
    "adagrad",
    "adam",
    "adamw",
    "get",
    "info",
    "names",
    "register",
    "registry",
    "rmsprop",
    "sgd",
    "unregister",
]
