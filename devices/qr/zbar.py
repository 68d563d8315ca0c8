"""zbar through pyzbar's ctypes binding, in binary mode: the code's bytes as they are.

``pyzbar.decode`` lets zbar turn every QR payload into UTF-8, guessing the charset when the code
has no ECI; its guesses made ``蹬靼翌QR`` of the Shift_JIS ``ﾃﾞｻﾞｲﾝQR`` (issue 19). zbar 0.23.1
and later have ``ZBAR_CFG_BINARY`` (4 in ``zbar.h``; pyzbar 0.1.9's enum predates it), which
keeps the bytes of codes without an ECI it knows; ``devices.qr.reader`` decides what to do with
them. On an older zbar the setting is refused and the converted text comes back as before (the
reader's rules still hold: only ASCII and UTF-8 are taken from zbar).
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


def decode_raw(gray: np.ndarray, symbols: Sequence[ZBarSymbol]) -> list[pyzbar.Decoded]:
    """``pyzbar.decode`` for a contiguous 2-D uint8 picture, with binary mode on for QR."""
    h, w = gray.shape
    pixels = np.ascontiguousarray(gray).tobytes()
    with _image_scanner() as scanner:
        for symbol in set(ZBarSymbol).difference(symbols):
            zbar_image_scanner_set_config(scanner, symbol, ZBarConfig.CFG_ENABLE, 0)
        for symbol in symbols:
            zbar_image_scanner_set_config(scanner, symbol, ZBarConfig.CFG_ENABLE, 1)
        if ZBarSymbol.QRCODE in symbols:
            zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
        with _image() as img:
            zbar_image_set_format(img, _FOURCC["L800"])
            zbar_image_set_size(img, w, h)
            zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)
            if zbar_scan_image(scanner, img) < 0:
                raise pyzbar.PyZbarError("Unsupported image format")
            return list(_decode_symbols(_symbols_for_image(img)))
