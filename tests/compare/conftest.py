"""The ``fake`` fixture: training replaced by :class:`FakeTraining`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gradtx.compare import _run
from tests.compare.helpers import FakeTraining


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTraining]:
    training = FakeTraining()
    monkeypatch.setattr(_run, "train_group", training)
    yield training
