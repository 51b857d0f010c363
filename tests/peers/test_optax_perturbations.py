"""optax's own tests, ``optax/perturbations/_make_pert_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "perturbations/_make_pert_test.py",
        expected=(
            "from optax.perturbations import _make_pert",
            "from optax._src import test_utils",
            "import optax.tree",
        ),
    )
)
