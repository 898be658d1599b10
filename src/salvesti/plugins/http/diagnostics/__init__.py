"""The diagnostics page: why the phones do not work, in plain words.

Each check family is a module of plain functions that judge facts and return a
:class:`check.Check` (an id, ok / warn / fail, an i18n key for the title and one for the
advice, and the details the words are filled with): ``carrier`` (registration with the
carrier and the public address it sees), ``extensions`` (desk and browser phones),
``media`` (RTP port range), ``disk`` (free space against retention), ``clock`` (time sync)
and ``components`` (each loaded component).  The words themselves live in the web UI's
i18n (Estonian and English), so the API gives keys and details and both languages render.

``report`` gathers the facts: the sources' through the ``core.diagnostics`` capability
(nothing here imports a source), the rest from the hub, the store and the system.
``routes`` serves ``GET /api/diagnostics``.  See docs/diagnostics.md.
"""
