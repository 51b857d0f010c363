"""optax's own tests of its schedules (``optax/schedules/_schedule_test.py``),
on gradtx, through the import rewrite of ``peer.py`` (see
``test_optax_alias.py``); the exceptions are in ``conftest.py``."""

from tests.peers import peer

exec(
    peer.load(
        "schedules/_schedule_test.py",
        expected=(
            # alias_test first: "import alias" is a prefix of its line.
            "from optax._src import alias_test",
            "from optax._src import alias",
            "from optax._src import base",
            "from optax._src import test_utils",
            "from optax._src import update",
            "from optax.schedules import _schedule",
        ),
    )
)


class _Annotations:
    """optax's ``base`` with ``ScalarOrSchedule`` and ``Schedule`` as the
    strings gradtx's signatures carry (``from __future__ import annotations``):
    the suite runs its schedule-as-learning-rate test only on optimizers
    whose ``learning_rate`` annotation is one of these."""

    ScalarOrSchedule = "ScalarOrSchedule"
    Schedule = "Schedule"

    def __getattr__(self, name: str) -> object:
        return getattr(_optax_base, name)


_optax_base = base  # noqa: F821 (defined by the exec above)
base = _Annotations()
