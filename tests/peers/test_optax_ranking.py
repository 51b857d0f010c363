"""optax's own tests, ``optax/losses/_ranking_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "losses/_ranking_test.py",
        expected=(
            "from optax.losses import _ranking",
            "import optax",
        ),
        overrides={
            "import optax": ("from tests.peers.shims import optax_namespace as optax"),
        },
    )
)
