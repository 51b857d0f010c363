"""What a variant is, how grids of them are built, and which ones compile together."""

from __future__ import annotations

import dataclasses
import itertools
import json
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gradtx import _registry

__all__ = [
    "AUGMENTS",
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Variant",
    "grid",
    "load_config",
]

# Each optimizer and the learning rate it is compared at when none is given.
DEFAULT_LEARNING_RATES = {
    "sgd": 0.05,
    "momentum": 0.05,
    "nesterov": 0.05,
    "adagrad": 0.05,
    "rmsprop": 1e-3,
    "adam": 3e-3,
    "adamw": 3e-3,
}
# AdamW's point is its decay: it gets PyTorch's default unless one is given.
DEFAULT_WEIGHT_DECAY = {"adamw": 1e-2}
OPTIMIZERS = tuple(DEFAULT_LEARNING_RATES)
SCHEDULES = ("constant", "cosine", "warmup_cosine", "step")
AUGMENTS = ("off", "light", "strong")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One training setup. Every field has a default: name only what you vary.

    Attributes:
      optimizer: one of ``sgd``, ``momentum``, ``nesterov`` (momentum 0.9),
        ``adagrad``, ``rmsprop``, ``adam``, ``adamw``.
      learning_rate: the peak learning rate; None for the optimizer's default.
      schedule: ``constant``, ``cosine`` (to 0 over the run),
        ``warmup_cosine`` (5% linear warm-up) or ``step`` (x0.1 at 50% and 75%).
      weight_decay: decoupled for ``adamw``, an L2 term added to the gradient
        otherwise; biases and norm scales are never decayed. None: 0.01 for
        ``adamw`` (PyTorch's default), 0 for the others.
      clip: a global gradient-norm clip, or None.
      init: a ``gradtx.init`` name for the weights.
      activation: a ``gradtx.activations`` name.
      dropout: the dropout rate before the classifier (0: none).
      batchnorm: BatchNorm after each hidden layer.
      augment: ``off``, ``light`` or ``strong`` (image tasks only).
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

        _registry.lookup("optimizer", self.optimizer, dict.fromkeys(OPTIMIZERS))
        _registry.lookup("schedule", self.schedule, dict.fromkeys(SCHEDULES))
        _registry.lookup("augmentation", self.augment, dict.fromkeys(AUGMENTS))
        _registry.lookup("initializer", self.init, dict.fromkeys(init.names()))
        activations.get(self.activation)
        lr = self.learning_rate
        if lr is not None and not (isinstance(lr, int | float) and lr > 0):
            raise ValueError(f"learning_rate must be a number > 0, got {lr!r}.")
        wd = self.weight_decay
        if wd is not None and not (isinstance(wd, int | float) and wd >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {wd!r}.")
        if self.clip is not None and not (
            isinstance(self.clip, int | float) and self.clip > 0
        ):
            raise ValueError(f"clip must be > 0 or None, got {self.clip!r}.")
        if not (isinstance(self.dropout, int | float) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not isinstance(self.batchnorm, bool):
            raise ValueError(
                f"batchnorm must be True or False, got {self.batchnorm!r}."
            )

    @property
    def lr(self) -> float:
        """The learning rate used: the given one or the optimizer's default."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return DEFAULT_LEARNING_RATES[self.optimizer]

    @property
    def wd(self) -> float:
        """The weight decay used: the given one or the optimizer's default."""
        if self.weight_decay is not None:
            return float(self.weight_decay)
        return DEFAULT_WEIGHT_DECAY.get(self.optimizer, 0.0)

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
                default = DEFAULT_LEARNING_RATES[self.optimizer]
                if self.learning_rate is None or self.lr == default:
                    continue
                value: Any = self.lr
            elif name == "weight_decay":
                default = DEFAULT_WEIGHT_DECAY.get(self.optimizer, 0.0)
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


def grid(**axes: Sequence[Any]) -> list[Variant]:
    """The cross product of the given axes; the other fields keep defaults.

    Example:
      >>> from gradtx import compare
      >>> [v.label(["learning_rate"]) for v in compare.grid(
      ...     optimizer=["sgd", "adam"], learning_rate=[0.1, 0.01])]
      ['sgd learning_rate=0.1', 'sgd learning_rate=0.01', 'adam learning_rate=0.1', 'adam learning_rate=0.01']

    Raises:
      ValueError: an unknown axis, an empty axis, or an invalid value.
    """  # noqa: E501
    for name, values in axes.items():
        _registry.lookup("axis", name, dict.fromkeys(FIELDS))
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise ValueError(f"axis {name} must be a list of values, got {values!r}.")
        if not values:
            raise ValueError(f"axis {name} is empty; give at least one value.")
    names = list(axes)
    return [
        Variant(**dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*(axes[n] for n in names))
    ]


def load_config(path: str | Path) -> list[Variant]:
    """Variants from a TOML or JSON file.

    The file holds either ``variants = [{...}, ...]`` (a list of variants, each
    naming the fields it changes) or ``grid = {axis = [values], ...}`` (a cross
    product), or both (concatenated).

    Raises:
      ValueError: an unreadable file, no variants, or an invalid field.
    """
    path = Path(path)
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read the config {str(path)!r}: {err}") from None
    if not isinstance(data, dict) or not ({"variants", "grid"} & set(data)):
        raise ValueError(
            f"the config {str(path)!r} needs a 'variants' list or a 'grid' table."
        )
    variants = []
    for entry in data.get("variants", []):
        if not isinstance(entry, dict):
            raise ValueError(f"each variant must be a table of fields, got {entry!r}.")
        for name in entry:
            _registry.lookup("variant field", name, dict.fromkeys(FIELDS))
        variants.append(Variant(**entry))
    if "grid" in data:
        variants += grid(**data["grid"])
    if not variants:
        raise ValueError(f"the config {str(path)!r} defines no variant.")
    return variants
