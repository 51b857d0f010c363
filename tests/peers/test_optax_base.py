"""optax's own tests, ``optax/_src/base_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/base_test.py",
        expected=(
            "from optax._src import test_utils",
            "from optax._src import base",
        ),
        overrides={
            "from optax._src import base": (
                "from tests.peers.shims import base_under_test as base"
            ),
        },
    )
)
