"""optax's own tests, ``optax/contrib/_muon_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "contrib/_muon_test.py",
        expected=(
            "from optax.transforms import _masking",
            "from optax._src import test_utils",
            "from optax.contrib import _muon",
            "from optax._src import numerics",
            "from optax._src import update",
        ),
    )
)
