"""Screenshots of the task force's console for docs/screenshots/ (console-*.png).

Seeds a throwaway platform database with the demo and a month of history
(``desk-platform seed-demo``), serves it on loopback, signs in as the demo police, commission and
platform accounts and a hospital administrator it adds (``desk-platform staff add``) in headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright), and saves the pages. Usage: ``python scripts/console_screenshots.py [--out DIR] [--lang zh|en]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/platform.db"
        subprocess.run([sys.executable, "-m", "desk_platform", "seed-demo", "--db", db,
                        "--out", f"{tmp}/qr"], check=True, env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        add_hospital_staff(db, env)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "desk_platform", "serve", "--db", db,
                                   "--port", str(port), "--no-init", "--log-level", "warning"],
                                  env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            shoot(base, out, args.lang, args.chromium)
        finally:
            server.terminate()
            server.wait(10)
    return 0


#: A hospital's administrator and some of its accounts for the 人员账号 page (one disabled).
HOSPITAL_STAFF = (("h001-admin", "信息科 王主任", "admin"), ("chenjing", "陈静", "clerk"),
                  ("linhui", "林慧", "clerk"), ("liuqiang", "刘强", "security"))


def add_hospital_staff(db: str, env: dict[str, str]) -> None:
    def cli(*args: str, password: str = "") -> None:
        subprocess.run([sys.executable, "-m", "desk_platform", "staff", *args, "--db", db],
                       input=password, text=True, check=True, env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL)

    for username, name, role in HOSPITAL_STAFF:
        cli("add", username, "--name", name, "--role", role, "--hospital", "H001",
            "--password-stdin", password="demo-pass-1")
    cli("disable", "linhui")


def month_ago() -> str:
    """The first day of last month: the summary table over this month and last."""
    from datetime import date, timedelta

    return (date.today().replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()


def shoot(base: str, out: Path, lang: str, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    suffix = "" if lang == "zh" else "-en"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for user, pages in (
                ("police", [("blacklist", "/console/blacklist"),
                            ("appeals", "/console/appeals")]),
                ("commission", [("stats", "/console/stats"),
                                ("taskforce", f"/console/taskforce?from={month_ago()}")]),
                ("platform", [("anomalies", "/console/anomalies")]),
                ("h001-admin", [("staff", "/console/staff")])):
            page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            if lang == "en":
                page.goto(f"{base}/console/lang?to=en&next=/console/login")
            page.goto(f"{base}/console/login")
            if user == "police":
                page.screenshot(path=str(out / f"console-login{suffix}.png"))
            page.fill("#username", user)
            page.fill("#password", "demo-pass-1")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            for name, path in pages:
                page.goto(base + path)
                if name == "anomalies":
                    with page.expect_navigation():
                        page.click("#scan")
                page.screenshot(path=str(out / f"console-{name}{suffix}.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
