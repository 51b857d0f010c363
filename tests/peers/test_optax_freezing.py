"""optax's own tests, ``optax/transforms/_freezing_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "transforms/_freezing_test.py",
        expected=(
            "from optax.transforms import _freezing",
            "from optax._src import test_utils",
            "from optax._src import update",
            "from optax._src import alias",
            "from optax._src import base",
        ),
    )
)
