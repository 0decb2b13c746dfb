"""``python -m zkcheck``: the same command line as the ``zkcheck`` script."""

import sys

from zkcheck.cli import main

sys.exit(main())
