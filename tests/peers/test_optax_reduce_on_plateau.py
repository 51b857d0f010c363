"""optax's own tests, ``optax/contrib/_reduce_on_plateau_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "contrib/_reduce_on_plateau_test.py",
        expected=(
            "from optax.contrib import _reduce_on_plateau",
            "from optax._src import test_utils",
        ),
    )
)
