#!/usr/bin/env bash
# Installs what is missing for the desk app, its tests and the demo; fast when nothing is.
#   1. Debian packages (as root: apt-get; otherwise prints the exact apt-get line and stops)
#   2. a virtual environment in .venv
#   3. the Python packages (re-installed only when pyproject.toml changes)
#   4. only with the argument `installer` (make installer): the build tools (the `installer` extra)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
STAMPS=.stamps
mkdir -p "$STAMPS"

# --- 1. Debian packages -------------------------------------------------------------------
# libzbar0: pyzbar. xvfb/xauth + libxcb*: Qt in a real window under Xvfb. libegl1/libgl1/
# libxkbcommon0/libfontconfig1/libdbus: Qt offscreen. fonts-wqy-microhei: Chinese glyphs
# (without it Chinese renders as boxes). binutils + libpython3.11: PyInstaller.
# tesseract-ocr*: the OCR engine for ID numbers read by camera. chromium: the console's browser
# tests (driven by Playwright from PyPI, which never downloads a browser of its own).
APT_PACKAGES=(python3-venv libpython3.11 binutils ca-certificates libzbar0 libpulse0
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim xvfb xauth libegl1 libgl1 libxkbcommon0
  libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 libx11-xcb1 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0
  libxcb-util1 libxcb-xkb1 libxcb-randr0 libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libxcb-glx0
  libxcb-render0 fonts-dejavu-core fonts-wqy-microhei chromium)

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then
      echo "bootstrap: installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "bootstrap: these Debian packages are missing: ${missing[*]}" >&2
      echo "bootstrap: run this as root, then run make again:" >&2
      echo "    sudo sh -c '$line'" >&2
      exit 2
    fi
  fi
else
  echo "bootstrap: not a Debian system; install libzbar and Qt's runtime libraries yourself." >&2
fi

# --- 2. virtual environment -----------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "bootstrap: creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

# --- 3. Python packages -----------------------------------------------------------------------
want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
have=$(cat "$STAMPS/pip" 2>/dev/null || true)
if [[ "$want" != "$have" ]]; then
  echo "bootstrap: installing Python packages into $VENV (first time: about two minutes)"
  "$VENV/bin/pip" install -q -e ".[server,dev]"
  # face-recognition pins `dlib`, which would compile for ten minutes; dlib-bin (installed
  # above) provides the same module prebuilt, so install face-recognition without its deps.
  # `pip check` will report the missing `dlib` distribution: expected.
  "$VENV/bin/pip" install -q --no-deps "face-recognition>=1.3,<2"
  # rapidocr-onnxruntime (ID numbers by camera; its ONNX models ship in the wheel) requires
  # opencv-python, which would overwrite opencv-python-headless: install it without its deps
  # (the others are in pyproject.toml).
  "$VENV/bin/pip" install -q --no-deps "rapidocr-onnxruntime>=1.3,<2"
  "$VENV/bin/python" - <<'PY'
import dlib, face_recognition, face_recognition_models, PySide6, cv2, pyzbar.pyzbar  # noqa: F401
import rapidocr_onnxruntime  # noqa: F401
print(f"bootstrap: ok (dlib {dlib.__version__}, PySide6 {PySide6.__version__}, OpenCV {cv2.__version__})")
PY
  echo "$want" > "$STAMPS/pip"
fi

# --- 4. the installer's build tools: only for `make installer` / `make installer-test` ----------
if [[ "${1:-}" == "installer" ]]; then
  want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
  have=$(cat "$STAMPS/pip-installer" 2>/dev/null || true)
  if [[ "$want" != "$have" ]]; then
    echo "bootstrap: installing the installer's build tools (PyInstaller) into $VENV"
    "$VENV/bin/pip" install -q -e ".[installer]"
    echo "$want" > "$STAMPS/pip-installer"
  fi
fi
