"""optax's own tests, ``optax/losses/_fenchel_young_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "losses/_fenchel_young_test.py",
        expected=(
            "from optax.losses import _classification",
            "from optax.losses import _fenchel_young",
            "from optax._src import test_utils",
        ),
        overrides={
            "from optax.losses import _classification": (
                "from tests.peers.shims import loss_fns as _classification"
            ),
        },
    )
)
