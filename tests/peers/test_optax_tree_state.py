"""optax's own tests, ``optax/tree_utils/_state_utils_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "tree_utils/_state_utils_test.py",
        expected=(
            "from optax.tree_utils import _state_utils",
            "from optax.schedules import _schedule",
            "from optax.tree_utils import _random",
            "from optax.schedules import _inject",
            "from optax._src import test_utils",
            "from optax._src import transform",
            "from optax._src import combine",
            "from optax._src import alias",
            "from optax._src import base",
        ),
    )
)
