"""optax's own tests of its optimizers (``optax/_src/alias_test.py``), on gradtx.

The file is read from the installed optax, its imports rewritten to gradtx
(``peer.py``, ``shims.py``), and executed here: its test classes are this
module's, and pytest runs them. What passes on optax must pass on gradtx;
the exceptions are listed in ``conftest.py`` with the reason (a documented
difference, the README's "Where frameworks disagree").
"""

from tests.peers import peer

exec(
    peer.load(
        "_src/alias_test.py",
        expected=(
            "from optax._src import alias",
            "from optax._src import base",
            "from optax._src import linesearch as _linesearch",
            "from optax._src import numerics",
            "from optax._src import test_utils",
            "from optax._src import transform",
            "from optax._src import update",
            "from optax._src import utils",
            "from optax.losses import _classification",
            "from optax.schedules import _inject",
            "from optax.transforms import _accumulation",
            "import optax.tree",
        ),
    )
)
