"""What the one-folder build leaves out (used by build_installer.spec; tested without a build).

Rules on the destination paths inside the build (``_internal/...``), the same for the Linux and
the Windows layout of the PySide6 wheel (``PySide6/Qt/plugins/...`` vs ``PySide6/plugins/...``).
"""

from __future__ import annotations

import re

# Qt plugins by folder: keep the platforms the desk runs on (offscreen for tests and the demo,
# xcb on a Linux desktop, windows), JPEG/GIF/ICO images, the audio backend (sound cues), the input
# methods (compose, ibus: Chinese names are typed). Everything else is dropped, together with the
# Qt libraries only those plugins used (virtual keyboard, Pdf, Svg, Wayland, EGLFS) and the GTK
# stack of the gtk3 theme plugin. Qt Quick/QML stay: the FFmpeg audio backend links to them.
# build_installer.spec refuses a build in which a kept library still links to a dropped one.
KEEP_PLUGINS = {
    "platforms": ("qoffscreen", "qxcb", "qwindows", "qminimal"),
    "imageformats": ("qjpeg", "qgif", "qico"),
    "platforminputcontexts": ("composeplatforminputcontextplugin",
                              "ibusplatforminputcontextplugin"),
    "multimedia": None, "xcbglintegrations": None, "styles": None,  # None: the whole folder
}
DROP_LIBS = re.compile(
    r"^(lib)?(Qt6(VirtualKeyboard|Pdf|Svg|WaylandClient|WlShellIntegration|EglFS|"
    r"EglFsKms)\w*\.(so|dll)|(atk-1\.0|atk-bridge-2\.0|atspi|gtk-3|gdk-3|gdk_pixbuf-2\.0|"
    r"pango\w*-1\.0|cairo(-gobject)?|thai|datrie|fribidi|pixman-1|harfbuzz|epoxy)\.so)")
# pycountry: only the country tables and their Chinese names (desk_app.identity.regions).
KEEP_PYCOUNTRY_LOCALES = re.compile(r"^pycountry/locales/zh_CN/LC_MESSAGES/iso3166-[13]\.mo$")
# Qt's own translations: Chinese and English only (ui.i18n loads qtbase_zh_CN).
QT_TRANSLATION = re.compile(r"(^|/)translations/(qt\w*?)_(\w+)\.qm$")


def dropped(dest: str) -> bool:
    """True when the file at ``dest`` (relative to the build's top folder) is left out."""
    d = dest.replace("\\", "/")
    base = d.rsplit("/", 1)[-1]
    stem = base.split(".", 1)[0].removeprefix("lib")
    if d.startswith("PySide6/") and "/plugins/" in f"/{d}":
        group = d.split("plugins/", 1)[1].split("/", 1)[0]
        if group not in KEEP_PLUGINS:
            return True
        keep = KEEP_PLUGINS[group]
        return keep is not None and stem not in keep
    if d.startswith("PySide6/") and (m := QT_TRANSLATION.search(d)):
        return m.group(3) not in ("zh_CN", "en")
    if d.startswith("pycountry/locales/"):
        return not KEEP_PYCOUNTRY_LOCALES.match(d)
    if d.startswith("resources/translations/") and base.endswith(".ts"):
        return True  # the translation sources; the .qm files are what Qt loads
    # Libraries in the top folder or Qt's own, not the copies other wheels carry (pillow.libs ...).
    top = "/" not in d or d.startswith("PySide6/")
    return top and bool(DROP_LIBS.match(base))
