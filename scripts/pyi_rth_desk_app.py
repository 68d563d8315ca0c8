"""PyInstaller run-time hook of the desk application (runs before any of its imports).

pyzbar finds zbar on Linux with ``ctypes.util.find_library("zbar")``, which asks ldconfig and so
only ever sees a system copy. The build carries ``libzbar.so.0`` in its top folder: point the
lookup at that copy, so a front-desk PC without the libzbar0 package still reads QR codes.
Windows is not touched: pyzbar loads the DLLs shipped next to its own module by itself.
"""

import ctypes.util
import glob
import os
import sys


def _install() -> None:
    if sys.platform == "win32":
        return
    bundled = sorted(glob.glob(os.path.join(sys._MEIPASS, "libzbar.so*")))  # noqa: SLF001
    if not bundled:
        return
    original = ctypes.util.find_library

    def find_library(name: str):
        if name == "zbar":
            return bundled[0]
        return original(name)

    ctypes.util.find_library = find_library


_install()
