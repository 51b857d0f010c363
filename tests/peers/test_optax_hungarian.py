"""optax's own tests, ``optax/assignment/_hungarian_algorithm_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "assignment/_hungarian_algorithm_test.py",
        expected=("from optax import assignment",),
    )
)
