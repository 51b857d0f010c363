"""optax's own tests, ``optax/_src/factorized_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/factorized_test.py",
        expected=(
            "from optax.transforms import _accumulation",
            "from optax._src import factorized",
            "from optax._src import test_utils",
        ),
    )
)
