"""python -m desk_platform: the desk-platform command."""

import sys

from desk_platform.cli import main

sys.exit(main())
