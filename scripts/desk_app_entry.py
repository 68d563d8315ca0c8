"""Entry point of the built (PyInstaller) desk application: the same CLI as `desk-app`.

Frozen, ``sys.executable`` is this program, not a Python interpreter. The demo and the sync
tools start the reference platform as ``sys.executable -m uvicorn ...`` (``sync.loopback``), so
``-m MODULE ARGS`` is answered here the way ``python -m`` would: run the bundled module as
``__main__`` with the remaining arguments.
"""

import multiprocessing
import runpy
import sys


def main() -> int:
    multiprocessing.freeze_support()  # uvicorn's worker processes (spawn) land here first
    if getattr(sys, "frozen", False) and len(sys.argv) > 2 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [module, *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from desk_app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
