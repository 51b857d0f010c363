"""optax's own tests, ``optax/losses/_classification_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "losses/_classification_test.py",
        expected=(
            "from optax.losses import _classification",
            "from optax._src import test_utils",
            "from optax import projections",
        ),
        overrides={
            "from optax.losses import _classification": (
                "from tests.peers.shims import loss_fns as _classification"
            ),
        },
    )
)
