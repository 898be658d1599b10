"""``salvesti store migrate``: move one box's history into the cluster (PostgreSQL + an S3 sink).

What moves: every call object (tags, outcome, notes, notice evidence, pauses, health, meta),
the web UI's users (password hashes as they are) and API tokens (by their hashes), the
deletion log, the audit log, and the recordings (copied byte for byte into the target's S3
sink, checked by sha256, the call's ``recording.path`` pointed at the object).  Encrypted
recordings are copied sealed, and their wrapped data keys go into the target's ``keys.db``.

Why it is safe to interrupt: every item is compared with what the target holds under the same
id before anything is written -- equal means done already, different is a *conflict* that is
reported and never overwritten -- so a second run after Ctrl-C or ``kill -9`` finishes the job
without duplicates.  A progress marker (``<data_dir>/migrate-progress.json``) only lets that
second run skip what was finished without comparing it again.

Modules, one job each: :mod:`.source` (reads the stopped box's SQLite file), :mod:`.target`
(the cluster's tables), :mod:`.audit_chain` (joining the audit chains), :mod:`.recordings`
(object copies), :mod:`.progress` (marker and bar), :mod:`.engine` (the phases, the report).
The command is :mod:`salvesti.cli_store`.
"""
