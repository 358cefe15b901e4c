"""``python -m loadtest.soak``: the command (``cli.main``)."""

import sys

from loadtest.soak.cli import main

sys.exit(main())
