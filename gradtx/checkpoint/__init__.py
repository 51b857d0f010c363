"""Save and restore params and optimizer state: ``save``, ``restore``, ``latest_step``.

The arrays go through `orbax-checkpoint <https://orbax.readthedocs.io>`_,
which writes them exactly, bit for bit, shard by shard, one directory per
leaf. Next to them, ``tree.json`` describes the tree that was saved: every
leaf's path (in :func:`jax.tree_util.keystr` form), shape and dtype, the
containers along the path (``ScaleByAdamState``, ``dict``...), and the size
and SHA-256 of every file. A checkpoint directory looks like this::

    directory/              # or directory/<step>/ with save(..., step=step)
      tree.json             # the record: written last, it makes the checkpoint
      arrays-<token>/orbax/ # orbax's files; leaf i under i/

:func:`restore` compares the layout with the target's before orbax reads
anything, so restoring into another optimizer, into hyperparameters that
change the state (a ``mu_dtype``, a mask, momentum on or off) or into params
of other shapes is a :class:`~gradtx.errors.TreeMismatchError` that names the
first differing path, instead of an error from deep inside orbax or, worse, a
silently wrong state. What the layout cannot show is a change of a
hyperparameter that keeps it (``b1=0.9`` vs ``b1=0.95``): store those with
your config.

Guarantees:

* **Atomic saves.** A save checks the whole tree first (non-arrays, dtypes
  orbax cannot write, deleted arrays), then writes into a data directory of
  its own with a fresh random name, syncs every file to disk, and commits by
  renaming its ``tree.json`` over the old one: one atomic rename. An error, a
  full or read-only disk, or a ``kill -9`` at any moment leaves the old
  checkpoint or the new one, complete, never neither and never a mix;
  :func:`latest_step` only counts steps with a ``tree.json``. What a killed
  save leaves (its data directory) is removed by the next save to the same
  place; if it was a new step, by the next save of any step beside it.
* **Concurrent writers.** Two processes (or threads) saving to the same place
  write into different data directories, so leaves never mix. Without
  ``overwrite`` exactly one succeeds and the other gets a
  :class:`FileExistsError`; with it, the last to commit wins, whole. A save
  never removes the data of a writer that is still running (each holds a
  ``flock`` on its directory). A restore that races an overwrite reads again
  and returns the new checkpoint.
* **Checksums.** ``tree.json`` holds the SHA-256 of every file orbax wrote
  (arrays and orbax's metadata) and a checksum of its own text. :func:`restore`
  checks them all before orbax reads, and a changed, truncated or missing
  file is a :class:`CheckpointCorruptError` naming the file and the leaf it
  holds. ``restore(..., verify=False)`` skips the file checks (the record is
  always checked).

Not covered: checkpoints of gradtx before version 2 of the format have no
checksums (they restore unchecked). The rename is atomic on POSIX
filesystems; where directories cannot be locked (NFS, Lustre without
``-o flock``) concurrent saves still never mix, but dead writers' leftovers
are not collected. Saves from several processes (``jax.process_count() >
1``: each writes its shards, process 0 hashes and commits) follow the same
protocol but are not tested yet (issue 21); process 0 reads every file once
to hash it, and every process checks every file on restore.
"""

from gradtx._internal.extras import require

require("gradtx.checkpoint", "checkpoint", "orbax.checkpoint")

from gradtx.checkpoint._record import CheckpointCorruptError as CheckpointCorruptError
from gradtx.checkpoint._restore import latest_step as latest_step
from gradtx.checkpoint._restore import restore as restore
from gradtx.checkpoint._save import save as save

__all__ = ["CheckpointCorruptError", "latest_step", "restore", "save"]
