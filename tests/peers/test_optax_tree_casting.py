"""optax's own tests, ``optax/tree_utils/_casting_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "tree_utils/_casting_test.py",
        expected=("from optax import tree_utils as otu",),
    )
)
