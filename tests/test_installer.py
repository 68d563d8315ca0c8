"""The installer's parts that can be checked without building (the build itself is checked by
``make installer-test``, scripts/installer_smoke.py): the spec names no path of the build
machine, the run-time hook really makes pyzbar load the bundled libzbar, the build leaves the
reference platform out, and a vendor decoder named ``*.dll`` is loaded as given."""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devices.idcard.wlt import CtypesWltDecoder, load_wlt_decoder

ROOT = Path(__file__).resolve().parent.parent


def test_spec_names_no_path_of_the_build_machine():
    spec = (ROOT / "build_installer.spec").read_text(encoding="utf-8")
    # string literals that are absolute paths: /usr/..., /lib..., C:\...
    absolute = re.findall(r"""["'](/(?:usr|lib|opt|home|etc)[^"']*|[A-Za-z]:\\[^"']*)["']""", spec)
    assert absolute == []
    assert "x86_64-linux-gnu" not in spec


def test_the_build_carries_the_demo_photos():
    """`desk-app demo` from the installed program plays the photos shipped in resources/demo."""
    from scripts.installer_rules import dropped

    spec = (ROOT / "build_installer.spec").read_text(encoding="utf-8")
    folders = re.search(r'for sub in \(([^)]*)\):\n\s+d = ROOT / "resources" / sub', spec)
    assert folders is not None and '"demo"' in folders.group(1)
    photos = sorted((ROOT / "resources" / "demo" / "faces").iterdir())
    assert any(p.suffix == ".jpg" for p in photos)
    for p in photos:
        assert not dropped(f"resources/demo/faces/{p.name}"), p.name


def _loaded_path(name: str) -> Path:
    """Where the dynamic loader finds ``name`` on this machine (read back from /proc)."""
    ctypes.CDLL(name)
    for line in Path("/proc/self/maps").read_text().splitlines():
        if f"/{name}" in line:
            return Path(line.split()[-1])
    raise AssertionError(f"{name} loaded but not in /proc/self/maps")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the hook acts on Linux only")
def test_runtime_hook_points_pyzbar_at_the_bundled_libzbar(tmp_path):
    name = ctypes.util.find_library("zbar")
    if not name:
        pytest.skip("libzbar0 is not installed")
    bundle = tmp_path / "_internal"
    bundle.mkdir()
    shutil.copy2(_loaded_path(name), bundle / name)
    child = textwrap.dedent(f"""
        import runpy, sys
        from pathlib import Path
        sys._MEIPASS = {str(bundle)!r}
        runpy.run_path({str(ROOT / "scripts" / "pyi_rth_desk_app.py")!r})
        import segno
        from PIL import Image
        from pyzbar import pyzbar
        qr = segno.make("RNQ1-installer", error="m")
        qr.save({str(tmp_path / "qr.png")!r}, scale=6)
        found = pyzbar.decode(Image.open({str(tmp_path / "qr.png")!r}))
        maps = Path("/proc/self/maps").read_text()
        print(found[0].data.decode(), {str(bundle)!r} in maps)
    """)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert out == ["RNQ1-installer", "True"]


def test_the_build_leaves_the_platform_out():
    """The desk's build carries no platform: desk_platform and its web stack are excluded, its
    migrations are not collected, and the frozen entry point runs no modules (it used to start
    the demo's platform as ``desk-app -m uvicorn``). scripts/installer_smoke.py checks the
    build itself."""
    spec = (ROOT / "build_installer.spec").read_text(encoding="utf-8")
    excludes = re.search(r"excludes = \(.*?\) \+ \[(.*?)\n\]", spec, re.S)
    assert excludes is not None
    for name in ("desk_platform", "fastapi", "uvicorn", "starlette"):
        assert f'"{name}"' in excludes.group(1), name
    assert "uvicorn.__main__" not in spec
    collected = re.findall(r'collect_data_files\(\s*("[^"]+")', spec)
    assert '"desk_app.storage"' in collected and not any("desk_platform" in c for c in collected)
    entry = (ROOT / "scripts" / "desk_app_entry.py").read_text(encoding="utf-8")
    assert "runpy" not in entry


def test_frozen_entry_is_the_desk_cli():
    child = textwrap.dedent(f"""
        import runpy, sys
        sys.frozen = True
        sys.argv = ["desk-app", "--version"]
        runpy.run_path({str(ROOT / "scripts" / "desk_app_entry.py")!r}, run_name="__main__")
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("desk-app ")


def test_vendor_decoder_named_dll_is_loaded_as_given(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or sys.platform == "win32":
        pytest.skip("no C compiler to build the stand-in vendor library")
    from tests.devices.test_idcard_wlt import FAKE_VENDOR_C

    (tmp_path / "fake.c").write_text(FAKE_VENDOR_C)
    vendor = tmp_path / "vendor" / "WltRS.dll"  # a Windows vendor's file name
    vendor.parent.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(vendor), str(tmp_path / "fake.c")],
                   check=True, timeout=60)
    dec = load_wlt_decoder(str(vendor))
    assert isinstance(dec, CtypesWltDecoder) and dec.path == vendor
    img = dec.decode(b"W" + bytes(1023))
    assert img is not None and img.shape == (126, 102, 3)


# Destinations as PyInstaller lays them out from the PySide6 wheels (Linux, then Windows).
KEPT = [
    "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
    "PySide6/Qt/plugins/imageformats/libqjpeg.so",
    "PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
    "PySide6/Qt/lib/libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6",
    "PySide6/Qt/translations/qtbase_zh_CN.qm", "PySide6/Qt/translations/qt_en.qm",
    "pycountry/locales/zh_CN/LC_MESSAGES/iso3166-1.mo", "pycountry/databases/iso3166-1.json",
    "pillow.libs/libharfbuzz-172d1f63.so.0.61421.0", "libzbar.so.0",
    "face_recognition_models/models/shape_predictor_68_face_landmarks.dat",
    "resources/translations/desk_zh_CN.qm",
    "PySide6/plugins/platforms/qwindows.dll", "PySide6/plugins/platforms/qoffscreen.dll",
    "PySide6/plugins/styles/qmodernwindowsstyle.dll",
    "PySide6/plugins/multimedia/windowsmediaplugin.dll", "PySide6\\Qt6Core.dll",
    "PySide6/translations/qtbase_zh_CN.qm", "pyzbar/libzbar-64.dll", "pyzbar/libiconv.dll",
    # the CNN detector: the last look for a face HOG cannot see (desk_app.faces.engine)
    "face_recognition_models/models/mmod_human_face_detector.dat",
]
DROPPED = [
    "PySide6/Qt/plugins/platforms/libqwayland.so", "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "PySide6/Qt/lib/libQt6Pdf.so.6", "libQt6VirtualKeyboard.so.6", "libcairo.so.2",
    "libharfbuzz.so.0", "libgtk-3.so.0", "libgdk-3.so.0", "libatk-bridge-2.0.so.0",
    "libatspi.so.0", "PySide6/Qt/translations/qtbase_de.qm",
    "pycountry/locales/de/LC_MESSAGES/iso3166-1.mo",
    "pycountry/locales/zh_CN/LC_MESSAGES/iso639-3.mo",
    "resources/translations/desk_zh_CN.ts",
    "PySide6/plugins/platforms/qdirect2d.dll", "PySide6/plugins/tls/qschannelbackend.dll",
    "PySide6\\plugins\\generic\\qtuiotouchplugin.dll", "PySide6/Qt6Pdf.dll",
    "PySide6/translations/qtbase_fr.qm",
]


@pytest.mark.parametrize("dest", KEPT)
def test_the_build_keeps(dest):
    from scripts.installer_rules import dropped

    assert not dropped(dest)


@pytest.mark.parametrize("dest", DROPPED)
def test_the_build_leaves_out(dest):
    from scripts.installer_rules import dropped

    assert dropped(dest)
