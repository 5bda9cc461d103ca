"""``python -m linsgd``: the same as the ``linsgd`` command."""

import sys

from linsgd.cli import main

sys.exit(main())
