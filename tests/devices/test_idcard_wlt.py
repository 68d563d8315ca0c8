"""The WLT decoder plug-in: a real shared library loaded with ctypes, end to end through the
reader; and a desk without one (portrait None, said once)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devices.idcard import sam, wlt
from devices.idcard.serial_reader import SamSerialReader
from devices.idcard.simulator import SimulatedSamReader
from devices.idcard.wlt import CtypesWltDecoder, load_wlt_decoder

# A stand-in for the vendor library with the same C signature. It "decodes" by painting
# pixel (x, y) as (B, G, R) = (photo[y], 2x, 2y) and refuses photos not starting with 'W'.
FAKE_VENDOR_C = r"""
#include <string.h>
static void put32(unsigned char *p, int v) { memcpy(p, &v, 4); }
static void put16(unsigned char *p, short v) { memcpy(p, &v, 2); }
int unpack(char *src, char *dst, int save) {
    unsigned char *d = (unsigned char *)dst, *s = (unsigned char *)src;
    int w = 102, h = 126, stride = 308, size = 54 + 308 * 126, x, y;
    (void)save;
    if (s[0] != 'W') return -2;
    memset(d, 0, size);
    d[0] = 'B'; d[1] = 'M'; put32(d + 2, size); put32(d + 10, 54); put32(d + 14, 40);
    put32(d + 18, w); put32(d + 22, h); put16(d + 26, 1); put16(d + 28, 24);
    put32(d + 34, stride * h);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            unsigned char *px = d + 54 + (h - 1 - y) * stride + 3 * x;
            px[0] = s[y]; px[1] = (unsigned char)(2 * x); px[2] = (unsigned char)(2 * y);
        }
    return 1;
}
"""


@pytest.fixture(scope="module")
def vendor_lib(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or sys.platform == "win32":
        pytest.skip("no C compiler to build the stand-in vendor library")
    d = tmp_path_factory.mktemp("wlt")
    (d / "fake.c").write_text(FAKE_VENDOR_C)
    lib = d / f"libfakewlt{wlt.LIBRARY_SUFFIX}"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(d / "fake.c")], check=True)
    return lib


def _photo() -> bytes:
    return b"W" + bytes(i % 256 for i in range(1, 1024))


def test_decoder_loads_and_decodes(vendor_lib):
    dec = load_wlt_decoder(str(vendor_lib))
    assert isinstance(dec, CtypesWltDecoder)
    photo = _photo()
    assert len(photo) == 1024
    img = dec.decode(photo)
    assert img is not None and img.shape == (126, 102, 3)
    assert tuple(img[5, 7]) == (photo[5], 14, 10)
    assert dec.decode(b"Q" + photo[1:]) is None  # the library refuses: no portrait, no crash


def test_suffix_is_added_for_the_platform(vendor_lib):
    dec = load_wlt_decoder(str(vendor_lib.with_suffix("")))
    assert dec is not None and dec.path.suffix == wlt.LIBRARY_SUFFIX


def test_reader_returns_the_decoded_portrait(vendor_lib):
    text = sam.CardText(name="王芳", sex_code="2", ethnicity_code="01", birth="19920101",
                        address="北京市东城区", id_number="110101199201010028",
                        issuer="北京市公安局东城分局", valid_from="20200101", valid_to="20300101")
    with SimulatedSamReader() as sim:
        sim.insert_card(text, photo=_photo())
        with SamSerialReader(sim.port, portrait_decoder=load_wlt_decoder(str(vendor_lib))) as r:
            read = r.read()
    assert read.portrait is not None and read.portrait.shape == (126, 102, 3)
    assert np.array_equal(read.portrait[:, 0, 2], (np.arange(126) * 2).astype(np.uint8))


def test_without_a_library_it_is_said_once(caplog, tmp_path):
    wlt._said_missing.clear()
    with caplog.at_level(logging.INFO, logger="devices.idcard.wlt"):
        assert load_wlt_decoder("") is None
        assert load_wlt_decoder("  ") is None
        missing = str(tmp_path / "libnothere.so")
        assert load_wlt_decoder(missing) is None
        assert load_wlt_decoder(missing) is None
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("no WLT decoder" in m for m in msgs) == 1
    assert sum("cannot be used" in m for m in msgs) == 1
