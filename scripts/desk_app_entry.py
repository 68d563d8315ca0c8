"""Entry point of the built (PyInstaller) desk application: the same CLI as `desk-app`."""

import multiprocessing
import sys

from desk_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
