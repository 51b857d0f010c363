"""optax's own tests, ``optax/schedules/_inject_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "schedules/_inject_test.py",
        expected=(
            "from optax._src import test_utils",
            "from optax._src import transform",
            "from optax._src import wrappers",
            "from optax import transforms",
            "from optax import schedules",
            "from optax._src import base",
            "import optax.tree",
        ),
    )
)
