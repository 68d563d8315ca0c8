"""Entry point of the built (PyInstaller) desk application: the same CLI as `desk-app`.

The build carries the desk alone: the reference platform (``desk_platform``, FastAPI, uvicorn) is
a separate program, which the demo and ``bench sync`` start as ``desk-platform`` (see
``sync.loopback.PlatformProgram``); the frozen desk never runs a Python module of its own.
``freeze_support`` is for the face processes (multiprocessing, spawn), which start this program
again.
"""

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()  # the face processes (spawn) land here first
    from desk_app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
