"""optax's own tests, ``optax/_src/linear_algebra_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/linear_algebra_test.py",
        expected=(
            "from optax._src import linear_algebra",
            "import optax.tree",
        ),
    )
)
