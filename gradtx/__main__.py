"""``python -m gradtx compare ...``: see ``gradtx.compare``."""

import sys

from gradtx.compare._cli import main

sys.exit(main())
