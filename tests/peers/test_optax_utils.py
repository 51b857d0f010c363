"""optax's own tests, ``optax/_src/utils_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/utils_test.py",
        expected=("from optax._src import utils",),
        overrides={
            "from optax._src import utils": (
                "from tests.peers.shims import utils_under_test as utils"
            ),
        },
    )
)
