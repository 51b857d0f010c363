"""optax's own tests, ``optax/microbatching/_microbatching_test.py``, on gradtx.

Through the import rewrite of ``peer.py`` (see ``test_optax_alias.py``); the
exceptions are in ``conftest.py``.
"""

from tests.peers import peer

exec(
    peer.load(
        "microbatching/_microbatching_test.py",
        expected=(
            "import optax.microbatching._microbatching as microbatching",
            "from optax._src import test_utils",
        ),
    )
)
