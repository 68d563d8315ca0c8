"""python -m sync.server: the desk-platform command."""

import sys

from sync.server.cli import main

sys.exit(main())
