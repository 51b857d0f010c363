"""optax's own tests, ``optax/_src/lookahead_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/lookahead_test.py",
        expected=(
            "from optax._src import test_utils",
            "from optax._src import lookahead",
            "from optax._src import update",
            "from optax._src import alias",
            "from optax._src import base",
            "import optax.tree",
        ),
    )
)
