"""Smoke test of the built desk application (``make installer-test``).

    python scripts/installer_smoke.py dist/desk-app [--photos DIR] [--only NAME ...]

Runs the program in ``dist/desk-app`` the way a front-desk PC would: from a temporary working
folder, with a fresh data folder, nothing from this source tree on the path. Each check prints
PASS or FAIL with what it measured; the exit code is 1 when any check failed. The checks:

- layout:    what the build must carry (face models, OCR models, zbar, Qt platform plugins,
             translations, sounds, migration scripts, the demo's photos)
- no-platform: what it must not carry: the reference platform (desk_platform) and its web stack
             (fastapi, uvicorn, starlette), neither as files nor in the program's module archive
- help, version
- eval-ids:  ID numbers from stdin (core, no Qt)
- eval-qr:   the QR photos in ../shared/data/qr, once with pyzbar (the bundled libzbar), once
             with zxing-cpp
- ocr:       three synthetic card photos (made with this tree's generator) read by the frozen
             RapidOCR engine
- window:    ``run --offscreen``: the whole window built, translations and sounds found, on a
             first start with no network but loopback (``unshare -n``, when permitted)
- desktop:   ``run`` on the xcb platform under Xvfb: the window stays up (Linux)
- demo-no-platform: ``demo --offscreen`` with no platform program to start (the installed desk
             alone): a clear message naming desk-platform, exit code 1, no traceback
- demo:      ``demo --offscreen --scenario genuine --json`` with the photos the build carries
             (resources/demo/faces, checked by layout): the platform, standing in for the
             hospital's, is ``desk-platform`` from this source tree run by the Python running
             this script (a wrapper on the PATH), a desk enrolled, a scripted patient; the
             verdict in the last-line JSON must be admit (no network but loopback, as above).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOWS = sys.platform == "win32"
DEFAULT_PHOTOS = ROOT.parent / "shared" / "data" / "faces"
DEFAULT_QR = ROOT.parent / "shared" / "data" / "qr"
UP_S = 12  # the desktop window must stay up this long


class CheckFailed(Exception):
    pass


def source_version() -> str:
    text = (ROOT / "desk_app" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        raise CheckFailed("no __version__ in desk_app/__init__.py")
    return m.group(1)


class Smoke:
    def __init__(self, app_dir: Path, photos: Path, qr: Path, work: Path) -> None:
        self.app_dir = app_dir
        self.exe = app_dir / ("desk-app.exe" if WINDOWS else "desk-app")
        self.internal = app_dir / "_internal"
        self.photos = photos
        self.qr = qr
        self.work = work
        # Nothing of this tree may leak in: no PYTHONPATH, no venv, a foreign working folder.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QT_QPA_PLATFORM",
                                 "QT_PLUGIN_PATH")}

        self.offline = self._offline_prefix()

    @staticmethod
    def _offline_prefix() -> list[str]:
        """A command prefix that runs a program in a network namespace with nothing but
        loopback (Linux, when this user may create one), else []."""
        unshare, ip = shutil.which("unshare"), shutil.which("ip")
        if WINDOWS or unshare is None or ip is None:
            return []
        prefix = [unshare, "-n", "sh", "-c", f'{ip} link set lo up && exec "$0" "$@"']
        try:
            ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        return prefix if ok else []

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120.0,
            data_dir: Path | None = None, offline: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [*(self.offline if offline else []), str(self.exe), *args]
        if data_dir is not None:
            cmd += ["--data-dir", str(data_dir)]
        try:
            return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                                  encoding="utf-8", errors="replace", timeout=timeout,
                                  cwd=self.work, env=env or self.env)
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"{' '.join(args)}: no answer after {timeout:.0f} s") from exc

    def ok(self, proc: subprocess.CompletedProcess[str], what: str) -> str:
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise CheckFailed(f"{what} exited with {proc.returncode}:\n{tail}")
        return proc.stdout

    def fresh_dir(self, name: str) -> Path:
        d = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.work))
        return d

    # --- checks -----------------------------------------------------------------------------
    def check_layout(self) -> str:
        if not self.exe.is_file():
            raise CheckFailed(f"{self.exe} not found: build it with `make installer`")
        i = self.internal
        platforms = "PySide6/plugins/platforms" if WINDOWS else "PySide6/Qt/plugins/platforms"
        desktop = "qwindows" if WINDOWS else "libqxcb"
        offscreen = "qoffscreen" if WINDOWS else "libqoffscreen"
        wanted = {
            "face models": ["face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
                            "face_recognition_models/models/shape_predictor_68_face_landmarks.dat",
                            "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"],
            "OCR models": ["rapidocr_onnxruntime/config.yaml",
                           "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"],
            "translations": ["resources/translations/desk_zh_CN.qm"],
            "sounds": [f"resources/sounds/{n}.wav" for n in ("admit", "review", "reject", "alert")],
            "migrations": ["desk_app/storage/migrations/env.py"],
            "demo photos": _demo_photos(),
        }
        missing = [f"{k}: {p}" for k, ps in wanted.items() for p in ps if not (i / p).is_file()]
        plugins = {p.stem for p in (i / platforms).glob("*")} if (i / platforms).is_dir() else set()
        for need in (desktop, offscreen):
            if need not in plugins:
                missing.append(f"Qt platform plugin {need} (found {sorted(plugins)})")
        zbar = (list((i / "pyzbar").glob("libzbar-64.dll")) if WINDOWS
                else list(i.glob("libzbar.so*")))
        if not zbar:
            missing.append("libzbar")
        if not list(i.glob("zxingcpp*")):
            missing.append("zxing-cpp")
        if missing:
            raise CheckFailed("missing from the build: " + "; ".join(missing))
        return f"models, zbar ({zbar[0].name}), Qt platforms {sorted(plugins)}"

    def check_help(self) -> str:
        out = self.ok(self.run("--help", timeout=60), "--help")
        for word in ("usage: desk-app", "demo", "eval", "settings"):
            if word not in out:
                raise CheckFailed(f"--help does not mention {word!r}:\n{out[:400]}")
        return f"{len(out.splitlines())} lines"

    def check_version(self) -> str:
        out = self.ok(self.run("--version", timeout=60), "--version").strip()
        want = f"desk-app {source_version()}"
        if out != want:
            raise CheckFailed(f"--version printed {out!r}, the source tree is {want!r}")
        return out

    def check_eval_ids(self) -> str:
        lines = "110101199001011237\n11010119900101123X\n12345\n"
        out = self.ok(self.run("eval", "ids", "--json", stdin=lines, timeout=60), "eval ids")
        rows = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        got = [(r.get("valid"), r.get("reason"), r.get("region")) for r in rows]
        # the region name comes from python-stdnum's data file: proves it is in the build
        want = [(True, None, "北京市东城区"), (False, "checksum", None), (False, "format", None)]
        if got != want:
            raise CheckFailed(f"eval ids judged {got}, expected {want}")
        return "valid (北京市东城区), checksum, format"

    def _eval_qr(self, decoder: str) -> dict:
        index = self.qr / "index.csv"
        if not index.is_file():
            raise CheckFailed(f"no QR photos at {index} (needed to check the QR decoders)")
        out = self.ok(self.run("eval", "qr", str(index), "--json", "--decoder", decoder,
                               timeout=300), f"eval qr --decoder {decoder}")
        summary = json.loads(out.strip().splitlines()[-1])
        bad = {k: summary[k] for k in ("errors", "wrong", "missed", "false_positives")
               if summary[k]}
        if bad or not summary["by_decoder"].get(decoder):
            raise CheckFailed(f"{decoder} in the build: {bad or 'decoded nothing'}: {summary}")
        return summary

    def check_eval_qr(self) -> str:
        z = self._eval_qr("pyzbar")
        x = self._eval_qr("zxing")
        return (f"pyzbar {z['correct']}/{z['images']} correct, zxing {x['correct']}/{x['images']}"
                f" correct ({z['true_negatives']} photos without a code), none wrong or missed")

    def check_ocr(self) -> str:
        if not self.photos.is_dir():
            raise CheckFailed(f"no face photos at {self.photos} (the card generator needs them)")
        cards = self.fresh_dir("cards")
        subprocess.run([sys.executable, "-m", "devices.idcard.synthetic", "make-set", str(cards),
                        "--faces", str(self.photos), "-n", "3", "--invalid", "0", "--seed", "7"],
                       check=True, cwd=ROOT, capture_output=True, timeout=120)
        out = self.ok(self.run("eval", "idcards", str(cards / "index.csv"), "--json",
                               "--engine", "rapidocr", timeout=300), "eval idcards")
        summary = json.loads(out.strip().splitlines()[-1])
        if summary["errors"] or summary["correct"] < 1:
            raise CheckFailed(f"the frozen RapidOCR read no card: {summary}")
        return (f"rapidocr {summary['correct']}/{summary['images']} card numbers correct, "
                f"median {summary['ms_median']} ms")

    def check_window(self) -> str:
        data = self.fresh_dir("window")
        out = self.ok(self.run("run", "--offscreen", data_dir=data, timeout=180, offline=True),
                      "run --offscreen")
        if "window built offscreen" not in out:
            raise CheckFailed(f"run --offscreen did not build the window:\n{out[-600:]}")
        _check_logs(data, "run --offscreen", "translation desk_", "sound file missing",
                    "Traceback")
        return out.strip().splitlines()[-1] + self._network_note()

    def _network_note(self) -> str:
        return (" (first start, no network but loopback)" if self.offline
                else " (network NOT isolated: unshare -n not permitted here)")

    def check_desktop(self) -> str:
        """The real desktop platform plugin (xcb) under Xvfb: the window must stay up."""
        if WINDOWS:
            return "skipped: on Windows the window check uses the qwindows plugin (layout)"
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            raise CheckFailed("xvfb-run not found (apt package xvfb): cannot check the xcb plugin")
        data = self.fresh_dir("desktop")
        cmd = [xvfb, "-a", "env", "QT_QPA_PLATFORM=xcb", "timeout", "-s", "TERM", str(UP_S),
               str(self.exe), "run", "--data-dir", str(data)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                  timeout=UP_S + 60, cwd=self.work, env=self.env)
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed("the desktop window did not stop when asked") from exc
        said = proc.stdout + proc.stderr
        if proc.returncode != 124 or "Could not load the Qt platform plugin" in said:
            tail = "\n".join(said.strip().splitlines()[-10:])
            raise CheckFailed(f"desk-app run on xcb exited with {proc.returncode} before "
                              f"{UP_S} s:\n{tail}")
        return f"window up on xcb (Xvfb) for {UP_S} s, then stopped"

    def check_no_platform(self) -> str:
        found = sorted(p.name for p in self.internal.iterdir()
                       if p.name.split("-")[0].split(".")[0].lower() in PLATFORM_MODULES)
        modules = _archived_modules(self.exe)
        found += sorted(m for m in modules if m.split(".")[0] in PLATFORM_MODULES)
        if found:
            raise CheckFailed(f"the build carries the platform: {found[:10]}")
        return (f"none of {', '.join(sorted(PLATFORM_MODULES))} among {len(modules)} archived "
                f"modules or the files")

    def _without_platform(self) -> dict[str, str]:
        """The environment with no desk-platform on the PATH (the installed desk alone)."""
        env = dict(self.env)
        env.pop("DESK_PLATFORM_COMMAND", None)
        env["PATH"] = os.pathsep.join(
            d for d in env.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / ("desk-platform.exe" if WINDOWS else "desk-platform")).exists())
        return env

    def check_demo_no_platform(self) -> str:
        proc = self.run("demo", "--offscreen", "--scenario", "genuine", "--lang", "en",
                        data_dir=self.fresh_dir("demo-alone"), timeout=120,
                        env=self._without_platform())
        said = proc.stdout + proc.stderr
        if proc.returncode == 0 or "Traceback" in said or "desk-platform" not in said:
            raise CheckFailed(f"demo without a platform exited with {proc.returncode}:\n"
                              f"{said.strip()[-800:]}")
        return f"exit {proc.returncode}: {said.strip().splitlines()[-1][:100]}..."

    def _platform_on_path(self) -> dict[str, str]:
        """The environment with a ``desk-platform`` wrapper on the PATH that runs this source
        tree's platform with the Python running this script (the venv with ``.[server]``)."""
        bin_dir = self.work / "platform-bin"
        bin_dir.mkdir(exist_ok=True)
        if WINDOWS:
            (bin_dir / "desk-platform.cmd").write_text(
                f'@set "PYTHONPATH={ROOT}"\r\n@"{sys.executable}" -m desk_platform %*\r\n',
                encoding="utf-8")
        else:
            wrapper = bin_dir / "desk-platform"
            wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" '
                               f'-m desk_platform "$@"\n', encoding="utf-8")
            wrapper.chmod(0o755)
        env = self._without_platform()
        env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
        return env

    def check_demo(self) -> str:
        # no --photos: the genuine patient's photos must come from the installed folder
        data = self.fresh_dir("demo")
        proc = self.run("demo", "--offscreen", "--scenario", "genuine", "--json",
                        data_dir=data, timeout=300, offline=True, env=self._platform_on_path())
        lines = [x for x in proc.stdout.strip().splitlines() if x.strip()]
        try:
            summary = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError) as exc:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise CheckFailed(f"demo (exit {proc.returncode}) printed no JSON summary:\n"
                              f"{tail}") from exc
        runs = {s.get("name"): s for s in summary.get("scenarios", [])}
        genuine = runs.get("genuine")
        if genuine is None:
            raise CheckFailed(f"the demo ran no genuine scenario: {summary}")
        if genuine.get("verdict") != "admit":
            raise CheckFailed(f"genuine patient got {genuine.get('verdict')!r}, expected admit: "
                              f"{genuine}")
        if proc.returncode != 0:
            raise CheckFailed(f"demo exited with {proc.returncode} after {summary}")
        # Frozen, the face processes are this program started again (freeze_support): if they
        # could not start, the desk computes the descriptors itself, slower, and logs it.
        _check_logs(data, "the demo", "face process died", "face model unavailable", "Traceback")
        return (f"verdict admit {genuine.get('reasons')} in {genuine.get('ms')} ms"
                + self._network_note())


PLATFORM_MODULES = {"desk_platform", "fastapi", "uvicorn", "starlette"}


def _archived_modules(exe: Path) -> list[str]:
    """The Python modules in the program's PYZ archive (read with PyInstaller's reader)."""
    try:
        from PyInstaller.archive.readers import CArchiveReader
    except ImportError as exc:
        raise CheckFailed("PyInstaller is needed to read the build's module archive") from exc
    arch = CArchiveReader(str(exe))
    names = [n for n in arch.toc if n.endswith(".pyz")]
    if not names:
        raise CheckFailed(f"no module archive (PYZ) in {exe.name}")
    return sorted(m for n in names for m in arch.open_embedded_archive(n).toc)


def _demo_photos() -> list[str]:
    """The demo's photos (with their SOURCES.md and licence) as this source tree has them."""
    folder = Path(__file__).resolve().parent.parent / "resources" / "demo" / "faces"
    return [f"resources/demo/faces/{p.name}" for p in sorted(folder.iterdir()) if p.is_file()]


def _check_logs(data: Path, what: str, *markers: str) -> None:
    """Fail when the desk's log files below ``data`` mention any of ``markers``."""
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in data.rglob("*.log*") if p.is_file())
    problems = [m for m in markers if m in logs]
    if problems:
        raise CheckFailed(f"the log of {what} mentions {problems}")


CHECKS: dict[str, Callable[[Smoke], str]] = {
    "layout": Smoke.check_layout,
    "help": Smoke.check_help,
    "version": Smoke.check_version,
    "eval-ids": Smoke.check_eval_ids,
    "eval-qr": Smoke.check_eval_qr,
    "ocr": Smoke.check_ocr,
    "window": Smoke.check_window,
    "desktop": Smoke.check_desktop,
    "no-platform": Smoke.check_no_platform,
    "demo-no-platform": Smoke.check_demo_no_platform,
    "demo": Smoke.check_demo,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("app_dir", type=Path, help="the built folder (dist/desk-app)")
    p.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="face photos folder")
    p.add_argument("--qr", type=Path, default=DEFAULT_QR, help="QR photos folder with index.csv")
    p.add_argument("--only", nargs="+", choices=sorted(CHECKS), help="run only these checks")
    args = p.parse_args(argv)
    names = args.only or list(CHECKS)
    failed = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="desk-app-smoke-") as work:
        smoke = Smoke(args.app_dir.resolve(), args.photos.resolve(), args.qr.resolve(), Path(work))
        for name in names:
            t0 = time.monotonic()
            try:
                detail = CHECKS[name](smoke)
            except (CheckFailed, subprocess.CalledProcessError, OSError, KeyError,
                    json.JSONDecodeError) as exc:
                failed.append(name)
                print(f"FAIL {name:9} ({time.monotonic() - t0:5.1f} s) {exc}", flush=True)
                if name == "layout" and not smoke.exe.is_file():
                    break
            else:
                print(f"PASS {name:9} ({time.monotonic() - t0:5.1f} s) {detail}", flush=True)
    total = time.monotonic() - started
    print(f"installer smoke test: {len(names) - len(failed)}/{len(names)} passed in {total:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
