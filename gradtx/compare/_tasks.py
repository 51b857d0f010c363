"""The data sets of the comparison tool: scikit-learn's shipped data, no download."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from gradtx._internal import validate

__all__ = ["TASKS", "Task", "load_task"]


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity (cached)
class Task:
    """A classification data set, split once (stratified, ``random_state=0``).

    Attributes:
      name: the task's name.
      kind: ``"image"`` (HWC images in [0, 1], a convolutional network) or
        ``"tabular"`` (standardized features, an MLP).
      x_train: training inputs, float32.
      y_train: training labels, int32.
      x_test: test inputs, float32.
      y_test: test labels, int32.
      num_classes: the number of classes.
      description: one line for ``--help`` and the results.
    """

    name: str
    kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    description: str


def _split(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=0.2, random_state=0, stratify=y))


def _digits() -> Task:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    x_tr, x_te, y_tr, y_te = _split(x, y.astype(np.int32))
    return Task(
        "digits",
        "image",
        x_tr,
        y_tr,
        x_te,
        y_te,
        10,
        "8x8 handwritten digits (1,797 images, 10 classes), a small CNN",
    )


def _tabular(name: str) -> Task:
    from sklearn import datasets

    loader = {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer}
    x, y = loader[name](return_X_y=True)
    x_tr, x_te, y_tr, y_te = _split(x.astype(np.float64), y.astype(np.int32))
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-8  # from training data only
    x_tr, x_te = ((a - mean) / std for a in (x_tr, x_te))
    classes = int(y.max()) + 1
    about = {
        "wine": "wine cultivars (178 samples, 13 features, 3 classes), an MLP",
        "breast_cancer": "breast cancer diagnosis (569 samples, 30 features, 2 "
        "classes), an MLP",
    }[name]
    return Task(
        name,
        "tabular",
        x_tr.astype(np.float32),
        y_tr,
        x_te.astype(np.float32),
        y_te,
        classes,
        about,
    )


TASKS: dict[str, Callable[[], Task]] = {
    "digits": _digits,
    "wine": functools.partial(_tabular, "wine"),
    "breast_cancer": functools.partial(_tabular, "breast_cancer"),
}


@functools.cache
def load_task(name: str) -> Task:
    """The task called ``name`` (loaded once per process).

    Raises:
      ValueError: an unknown name (the valid ones are listed).
    """
    return validate.lookup("load_task", "task", name, TASKS)()
