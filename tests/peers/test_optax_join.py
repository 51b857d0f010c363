"""optax's own tests, ``optax/schedules/_join_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "schedules/_join_test.py",
        expected=(
            "from optax.schedules import _schedule",
            "from optax.schedules import _join",
        ),
    )
)
