"""``python -m salvesti`` is the same as the ``salvesti`` command."""

import sys

from salvesti.cli import main

sys.exit(main())
