"""zbar through pyzbar's ctypes binding, in binary mode: the code's bytes as they are.

``pyzbar.decode`` lets zbar turn every QR payload into UTF-8, guessing the charset when the code
has no ECI; its guesses made ``蹬靼翌QR`` of the Shift_JIS ``ﾃﾞｻﾞｲﾝQR`` (issue 19). zbar 0.23.1
and later have ``ZBAR_CFG_BINARY`` (4 in ``zbar.h``; pyzbar 0.1.9's enum predates it), which
keeps the bytes of codes without an ECI it knows; ``devices.qr.reader`` decides what to do with
them. An older zbar refuses the setting and converts as before; :func:`decode_raw` says so and
the reader then takes only ASCII from zbar (its UTF-8 could be a wrong conversion).
"""

from __future__ import annotations

from collections.abc import Sequence
from ctypes import c_void_p, cast

import numpy as np
from pyzbar import pyzbar
from pyzbar.pyzbar import _FOURCC, _decode_symbols, _image, _image_scanner, _symbols_for_image
from pyzbar.wrapper import (
    ZBarConfig,
    ZBarSymbol,
    zbar_image_scanner_set_config,
    zbar_image_set_data,
    zbar_image_set_format,
    zbar_image_set_size,
    zbar_scan_image,
)

ZBAR_CFG_BINARY = 4


def decode_raw(gray: np.ndarray, symbols: Sequence[ZBarSymbol]
               ) -> tuple[list[pyzbar.Decoded], bool]:
    """``pyzbar.decode`` for a contiguous 2-D uint8 picture, with binary mode on for QR; and
    whether zbar took binary mode (False: an older zbar that converted the texts itself)."""
    h, w = gray.shape
    pixels = np.ascontiguousarray(gray).tobytes()
    with _image_scanner() as scanner:
        for symbol in set(ZBarSymbol).difference(symbols):
            zbar_image_scanner_set_config(scanner, symbol, ZBarConfig.CFG_ENABLE, 0)
        for symbol in symbols:
            zbar_image_scanner_set_config(scanner, symbol, ZBarConfig.CFG_ENABLE, 1)
        binary = ZBarSymbol.QRCODE not in symbols or zbar_image_scanner_set_config(
            scanner, ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1) == 0
        with _image() as img:
            zbar_image_set_format(img, _FOURCC["L800"])
            zbar_image_set_size(img, w, h)
            zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)
            if zbar_scan_image(scanner, img) < 0:
                raise pyzbar.PyZbarError("Unsupported image format")
            return list(_decode_symbols(_symbols_for_image(img))), binary
