"""optax's own tests, ``optax/transforms/_monitoring_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "transforms/_monitoring_test.py",
        expected=(
            "from optax.transforms import _monitoring",
            "from optax.transforms import _combining",
            "from optax.transforms import _clipping",
            "from optax._src import update",
            "from optax._src import alias",
            "from optax import tree",
        ),
    )
)
