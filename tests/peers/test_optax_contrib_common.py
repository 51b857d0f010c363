"""optax's own tests, ``optax/contrib/_common_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "contrib/_common_test.py",
        expected=(
            "from optax.transforms import _accumulation",
            "from optax.schedules import _schedule",
            "from optax.schedules import _inject",
            "from optax._src import test_utils",
            "from optax._src import numerics",
            "from optax._src import combine",
            "from optax._src import update",
            "from optax._src import utils",
            "from optax._src import alias",
            "from optax._src import base",
            "from optax import contrib",
            "import optax.tree",
        ),
    )
)
