"""``sipvicious_svcrack`` from a chosen source address: ``python svcrack_from.py IP ARGS...``.

svcrack 0.3.8 has a ``--bindingip`` option but does not pass it on to its scanner, so it always
sends from the default address; this sets it, so the test's attacker is not the office phone."""

import sys

from sipvicious import svcrack

source = sys.argv.pop(1)
_init = svcrack.ASipOfRedWine.__init__


def _from_source(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    kwargs["bindingip"] = source
    _init(self, *args, **kwargs)


svcrack.ASipOfRedWine.__init__ = _from_source
svcrack.main()
