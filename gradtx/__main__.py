"""``python -m gradtx compare ...``: see ``gradtx.compare``."""

from gradtx.compare import main_entry

main_entry()
