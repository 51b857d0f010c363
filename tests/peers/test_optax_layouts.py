"""optax's own tests, ``optax/transforms/_layouts_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "transforms/_layouts_test.py",
        expected=(
            "from optax.transforms import _layouts",
            "from optax._src import test_utils",
            "from optax._src import update",
            "from optax._src import alias",
        ),
    )
)
