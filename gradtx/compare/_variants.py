"""What a variant is, how grids of them are built, and which ones compile together."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import reprlib
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, overload

import numpy as np

from gradtx import optimizers
from gradtx._internal import validate

__all__ = [
    "AUGMENTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "Variant",
    "choices",
    "grid",
    "labels",
    "load_config",
]

# choices()'s last answer, and the registry it was read from.
_CHOICES: tuple[Mapping[str, Any], Mapping[str, Any]] = ({}, {})


def choices() -> Mapping[str, tuple[optimizers.OptimizerInfo, optimizers.Preset]]:
    """The optimizers the comparison offers: every registered optimizer's
    presets (:class:`gradtx.optimizers.Preset`), by name, in registry order,
    each with its optimizer's entry."""
    global _CHOICES
    entries, table = _CHOICES
    if entries is not (now := optimizers.registry()):  # the registry changed
        table = MappingProxyType(
            {p.name: (e, p) for e in now.values() for p in e.presets}
        )
        _CHOICES = (now, table)
    return table


class _Choices(Sequence[str]):
    """The names of :func:`choices`, read from the registry at each use (so an
    optimizer registered after import is offered at once); equal to the tuple
    of the names."""

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return tuple(choices())[index]

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(choices()))

    def __len__(self) -> int:
        return len(choices())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) or not isinstance(other, Sequence):
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]  # like a list: equal, not hashable

    def __repr__(self) -> str:
        return repr(tuple(self))


# The optimizer names a variant takes (from the optimizer registry).
OPTIMIZERS: Sequence[str] = _Choices()


def default_optimizers() -> list[str]:
    """The choices ``gradtx compare`` trains when no ``--optimizers`` is given."""
    return [name for name, (_, p) in choices().items() if p.default_run]


SCHEDULES = ("constant", "cosine", "warmup_cosine", "step")
AUGMENTS = ("off", "light", "strong")
# The numeric fields: whether 0 is excluded, the upper bound (excluded), and
# what a valid value is. None means "the default" for all but the dropout rate;
# NaN and inf are never valid.
_NUMBERS = (
    (
        "learning_rate",
        True,
        math.inf,
        "a finite number > 0 (or None: the optimizer's own)",
    ),
    (
        "weight_decay",
        False,
        math.inf,
        "a finite number >= 0 (or None: the optimizer's own)",
    ),
    ("clip", True, math.inf, "a finite gradient norm > 0, or None for no clipping"),
    ("dropout", False, 1.0, "in [0, 1)"),
)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One training setup. Every field has a default: name only what you vary.

    Attributes:
      optimizer: one of :data:`OPTIMIZERS`, the registered optimizers'
        presets (:class:`gradtx.optimizers.Preset`): ``sgd``, ``momentum``
        and ``nesterov`` (SGD with momentum 0.9), ``adam``, ...
      learning_rate: the peak learning rate; None for the preset's default.
      schedule: ``constant``, ``cosine`` (to 0 over the run),
        ``warmup_cosine`` (5% linear warm-up) or ``step`` (x0.1 at 50% and 75%).
      weight_decay: decoupled for an optimizer that applies its own
        (``adamw``; see :class:`gradtx.optimizers.OptimizerInfo`), an L2 term
        added to the gradient otherwise; biases and norm scales are never
        decayed. None: the preset's default (0.01 for ``adamw``, PyTorch's;
        0 for the others).
      clip: a global gradient-norm clip, or None.
      init: a ``gradtx.init`` name for the weights.
      activation: a ``gradtx.activations`` name.
      dropout: the dropout rate before the classifier (0: none).
      batchnorm: BatchNorm after each hidden layer.
      augment: ``off``, ``light`` or ``strong`` (image tasks only).

    Every field is checked when the variant is built. Names match as in
    gradtx's registries (``"Adam"`` finds ``adam``) and are stored in their
    canonical spelling; numbers (Python or NumPy) are stored as floats and
    must be finite.

    Raises:
      ValueError: an unknown name (the message suggests the closest), or a
        number out of range, NaN or infinite.
      TypeError: a name that is not a string, a number that is not a real
        number (``True`` included), a ``batchnorm`` that is not a bool.
    """

    optimizer: str = "adam"
    learning_rate: float | None = None
    schedule: str = "constant"
    weight_decay: float | None = None
    clip: float | None = None
    init: str = "he_normal"
    activation: str = "relu"
    dropout: float = 0.0
    batchnorm: bool = False
    augment: str = "off"

    def __post_init__(self) -> None:
        from gradtx import activations, init

        # Names are stored in their canonical spelling ("Adam" -> "adam"), so
        # equal setups group, label and look up their defaults alike.
        for field, kind, names in (
            ("optimizer", "optimizer", OPTIMIZERS),
            ("schedule", "schedule", SCHEDULES),
            ("augment", "augmentation", AUGMENTS),
            ("init", "initializer", init.names()),
            ("activation", "activation", activations.names()),
        ):
            table = {name: name for name in names}
            object.__setattr__(
                self,
                field,
                validate.lookup("Variant", kind, getattr(self, field), table),
            )
        for field, low_open, high, rule in _NUMBERS:
            value = getattr(self, field)
            if value is None and field != "dropout":
                continue
            validate.plain_number(
                "Variant",
                field,
                value,
                low=0.0,
                low_open=low_open,
                high=high,
                high_open=True,
                rule=rule,
            )
            object.__setattr__(self, field, float(value))
        validate.boolean("Variant", "batchnorm", self.batchnorm)
        object.__setattr__(self, "batchnorm", bool(self.batchnorm))

    @property
    def lr(self) -> float:
        """The learning rate used: the given one or the optimizer's default."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return float(choices()[self.optimizer][1].learning_rate)

    @property
    def wd(self) -> float:
        """The weight decay used: the given one or the optimizer's default."""
        if self.weight_decay is not None:
            return float(self.weight_decay)
        return float(choices()[self.optimizer][1].weight_decay)

    def structure(self) -> Variant:
        """The variant with its vectorized numbers blanked: equal structures
        share one compiled program. The learning rate, weight decay, dropout
        rate and clip norm are arrays in it, so grids of them train together
        under ``vmap``; only whether dropout and clipping are on is structure."""
        return dataclasses.replace(
            self,
            learning_rate=None,
            weight_decay=None,
            dropout=0.5 if self.dropout > 0 else 0.0,
            clip=None if self.clip is None else 1.0,
        )

    def numbers(self) -> list[float]:
        """The vectorized numbers: learning rate, weight decay, dropout, clip."""
        return [self.lr, self.wd, float(self.dropout), float(self.clip or 0.0)]

    def label(self, varying: Iterable[str] | None = None) -> str:
        """A short name: the optimizer, then each field in ``varying`` whose value
        is not its default (for the learning rate: the optimizer's default)."""
        parts = [self.optimizer]
        defaults = Variant()
        for name in varying if varying is not None else ():
            if name == "optimizer":
                continue
            if name == "learning_rate":
                default = choices()[self.optimizer][1].learning_rate
                if self.learning_rate is None or self.lr == default:
                    continue
                value: Any = self.lr
            elif name == "weight_decay":
                default = choices()[self.optimizer][1].weight_decay
                if self.weight_decay is None or self.wd == default:
                    continue
                value = self.wd
            else:
                value = getattr(self, name)
                if value == getattr(defaults, name):
                    continue
            parts.append(
                f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
            )
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The fields, with the learning rate actually used."""
        return {
            **dataclasses.asdict(self),
            "learning_rate": self.lr,
            "weight_decay": self.wd,
        }


FIELDS = tuple(f.name for f in dataclasses.fields(Variant))
# A grid larger than this is a typo or a runaway generator, not a comparison:
# it would take hours to build, let alone to train.
MAX_VARIANTS = 100_000
_CONFIG_EXAMPLE = 'variants = [{optimizer = "adam", learning_rate = 1e-3}]'


def labels(variants: Sequence[Variant]) -> list[str]:
    """A short name per variant: the optimizer and the fields that vary among
    ``variants``; identical variants are numbered."""
    varying = [f for f in FIELDS if len({str(v.to_dict()[f]) for v in variants}) > 1]
    names = [v.label(varying) for v in variants]
    if len(set(names)) < len(names):
        names = [f"{name} #{i + 1}" for i, name in enumerate(names)]
    return names


def grid(**axes: Sequence[Any] | np.ndarray) -> list[Variant]:
    """The cross product of the given axes; the other fields keep defaults.

    Each axis is a list (or tuple, or 1-D NumPy array) of values for one
    :class:`Variant` field.

    Example:
      >>> from gradtx import compare
      >>> [v.label(["learning_rate"]) for v in compare.grid(
      ...     optimizer=["sgd", "adam"], learning_rate=[0.1, 0.01])]
      ['sgd learning_rate=0.1', 'sgd learning_rate=0.01', 'adam learning_rate=0.1', 'adam learning_rate=0.01']

    Raises:
      ValueError: an unknown axis, an empty axis, an invalid value, or more
        than 100,000 variants.
      TypeError: an axis that is not a list, or a value of the wrong type.
    """  # noqa: E501
    values = {}
    with validate.named("grid") as fn:  # a bad value: "grid: the optimizer ..."
        for name, given in axes.items():
            validate.lookup(fn, "axis", name, dict.fromkeys(FIELDS))
            values[name] = validate.sequence(
                fn, f"axis {name}", given, hint=f"For one value, write {name}=[value]."
            )
        size = math.prod(len(v) for v in values.values())
        if size > MAX_VARIANTS:
            shape = " x ".join(f"{len(v)} {name}" for name, v in values.items())
            raise validate.error(
                ValueError,
                fn,
                f"the grid has {size:,} variants ({shape}), more than the "
                f"{MAX_VARIANTS:,} one comparison trains; use fewer values per axis.",
            )
        names = list(values)
        return [
            Variant(**dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(values[n] for n in names))
        ]


def load_config(path: str | Path) -> list[Variant]:
    """Variants from a TOML or JSON file.

    The file holds either ``variants = [{...}, ...]`` (a list of variants, each
    naming the fields it changes) or ``grid = {axis = [values], ...}`` (a cross
    product), or both (concatenated). A ``.toml`` file is read as TOML, any
    other as JSON.

    Raises:
      ValueError: an unreadable file, an unknown key, no variants, or an
        invalid field; the message names the file and the entry.
      TypeError: an entry or a value of the wrong type.
    """
    path = Path(path)
    where = f"the config {str(path)!r}"
    # Checks within the file say where: "load_config: the config 'c.toml':
    # variants[1]: learning_rate must be ...".
    inside = f"load_config: {where}"
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as err:
        raise validate.error(
            ValueError, "load_config", f"cannot read {where}: {err}"
        ) from None
    for key in data if isinstance(data, dict) else ():
        validate.lookup(inside, "config key", key, dict.fromkeys(("variants", "grid")))
    if not isinstance(data, dict) or not ({"variants", "grid"} & set(data)):
        raise validate.error(
            ValueError,
            "load_config",
            f"{where} needs a 'variants' list or a 'grid' table, e.g. "
            f"{_CONFIG_EXAMPLE}.",
        )
    entries = data.get("variants", [])
    if not isinstance(entries, list):
        raise validate.error(
            TypeError,
            inside,
            f"'variants' must be a list of tables, e.g. {_CONFIG_EXAMPLE}, got "
            f"{reprlib.repr(entries)}.",
        )
    variants = []
    for i, entry in enumerate(entries):
        with validate.named(f"{inside}: variants[{i}]") as at:
            if not isinstance(entry, dict):
                raise validate.error(
                    TypeError,
                    at,
                    "each variant must be a table of fields, e.g. "
                    f'{{optimizer = "adam"}}, got {reprlib.repr(entry)}.',
                )
            for name in entry:
                validate.lookup(at, "variant field", name, dict.fromkeys(FIELDS))
            variants.append(Variant(**entry))
    if "grid" in data:
        axes = data["grid"]
        if not isinstance(axes, dict):
            raise validate.error(
                TypeError,
                inside,
                "'grid' must be a table of axes, e.g. [grid] optimizer = "
                f'["sgd", "adam"], got {reprlib.repr(axes)}.',
            )
        with validate.named(f"{inside}: grid"):
            variants += grid(**axes)
    if not variants:
        raise validate.error(ValueError, "load_config", f"{where} defines no variant.")
    return variants
