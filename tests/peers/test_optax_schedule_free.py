"""optax's own tests, ``optax/contrib/_schedule_free_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "contrib/_schedule_free_test.py",
        expected=(
            "from optax.contrib import _schedule_free",
            "from optax._src import test_utils",
            "from optax._src import numerics",
            "from optax._src import update",
            "from optax._src import alias",
        ),
    )
)
