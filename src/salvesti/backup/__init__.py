"""Backups and restore of one Salvesti box: ``salvesti backup``, ``backup verify``, ``restore``.

A backup is one folder named by its UTC time (``20261207T153000Z``) holding the SQLite
databases (copied with SQLite's online backup API, so ``salvesti run`` keeps recording), the
finished recordings, the config and secrets, and a ``manifest.json`` with the sha256 of every
file.  Backups hold personal data under the same retention and erasure rules as the box:
``--keep N`` rotates old folders away, and a restore re-applies every deletion the live store
logged after the backup was made, so that restoring never brings an erased recording back.

Modules, one job each: :mod:`.plan` (what a config uses, found the way the running code finds
it), :mod:`.sqlite_copy` (online copy and integrity check), :mod:`.manifest` (the manifest and
hashing copies), :mod:`.create`, :mod:`.verify`, :mod:`.rotate`, :mod:`.deletions` and
:mod:`.restore`.  The commands are in :mod:`salvesti.cli_backup`.
"""
