"""``python -m gradtx compare ...``: see ``gradtx.compare``."""

from gradtx.compare._cli import main_entry

main_entry()
