"""optax's own tests, ``optax/projections/_projections_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "projections/_projections_test.py",
        expected=(
            "from optax import projections as proj",
            "from optax._src import test_utils",
            "import optax.tree",
        ),
    )
)
