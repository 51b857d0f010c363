"""optax's own tests, ``optax/_src/numerics_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/numerics_test.py",
        expected=("from optax._src import numerics",),
        overrides={
            "from optax._src import numerics": (
                "from tests.peers.shims import numerics_under_test as numerics"
            ),
        },
    )
)
