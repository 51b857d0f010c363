"""optax's own tests, ``optax/_src/float64_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/float64_test.py",
        expected=(
            "from optax._src import transform",
            "from optax._src import update",
            "from optax._src import alias",
            "from optax import transforms",
            "from optax._src import base",
        ),
    )
)
