"""The demo starts the reference platform as a separate program: without one (the installed
desk alone) it says what it needs and how to point at it, with no traceback; with one it is
found and driven through its command line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sync.loopback import PlatformProgram, ServerProcess

ROOT = Path(__file__).resolve().parent.parent.parent


def _desk_demo(*args: str, frozen: bool, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    """``desk-app demo ARGS`` in a child process; ``frozen`` as the installed (PyInstaller) desk
    is, which never runs the platform from its own interpreter."""
    child = textwrap.dedent(f"""
        import sys
        if {frozen!r}:
            sys.frozen = True
        from desk_app.cli import main
        sys.exit(main(["demo", "--offscreen", "--scenario", "genuine", *{list(args)!r}]))
    """)
    base = {k: v for k, v in os.environ.items() if k != "DESK_PLATFORM_COMMAND"}
    # no desk-platform on the PATH either
    base["PATH"] = os.pathsep.join(
        d for d in base.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "desk-platform").exists())
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**base, **(env or {})})


def test_demo_without_a_platform_program_says_what_it_needs(tmp_path):
    for lang, words in (("en", ["desk-platform", "pip install .[server]",
                                "DESK_PLATFORM_COMMAND", "--platform-command"]),
                        ("zh_CN", ["找不到中心平台程序", "desk-platform", "DESK_PLATFORM_COMMAND"])):
        proc = _desk_demo("--lang", lang, "--data-dir", str(tmp_path / lang), frozen=True)
        said = proc.stdout + proc.stderr
        assert proc.returncode == 1, said
        assert "Traceback" not in said
        for w in words:
            assert w in said, (w, said)
        assert not (tmp_path / lang).exists() or not any((tmp_path / lang).rglob("*.sqlite3"))


def test_a_platform_command_that_does_not_exist_is_the_same_clear_refusal(tmp_path):
    missing = tmp_path / "nowhere" / "desk-platform"
    for how in (["--platform-command", str(missing)], []):
        env = {} if how else {"DESK_PLATFORM_COMMAND": str(missing)}
        proc = _desk_demo("--lang", "en", *how, frozen=False, env=env)
        said = proc.stdout + proc.stderr
        assert proc.returncode == 1 and "Traceback" not in said, said
        assert "The central platform program is not available" in said


def test_from_a_source_checkout_the_platform_is_this_python_dash_m():
    program = PlatformProgram.find()
    assert program.command == [sys.executable, "-m", "desk_platform"]
    assert program.cwd == ROOT
    given = PlatformProgram.find("/opt/hospital/bin/desk-platform --flag")
    assert given.command == ["/opt/hospital/bin/desk-platform", "--flag"]


def test_the_platform_program_seeds_books_serves_and_reports(tmp_path):
    """The commands the demo and bench sync use, end to end against the real program."""
    program = PlatformProgram.find()
    db = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    key = str(tmp_path / "p.key")

    def testing(*args: str, request: object = None):  # noqa: ANN202
        return program.run("testing", *args, "--db", db, "--key-file", key, request=request)

    seed = testing("seed-demo", "--out", str(tmp_path / "out"), "--desk", "desk-09")
    assert set(seed["enrollment_codes"]) == {"desk-09"}
    normal = next(p for p in seed["patients"] if p["scenario"] == "normal")
    assert normal["token"].startswith("RNB1:") and len(normal["id_number"]) == 18
    booked = testing("book", request={"bookings": [{
        "key": "k1", "department_code": "DER", "department_name": "皮肤科", "doctor": "孙立",
        "slot_start": "2030-01-02T09:00:00+08:00", "slot_minutes": 10,
        "id_number": normal["id_number"], "account": "acct-k1"}]})
    assert booked["k1"]["status"] == "active" and booked["k1"]["token"].startswith("RNB1:")
    tokens = testing("enroll-desks", request={"desks": [["H001", "desk-a"], ["H009", "desk-b"]]})
    assert set(tokens) == {"desk-a", "desk-b"}
    assert testing("seed-blacklist", "3") == {"entries": 3}
    assert testing("stored-visits", request={"visit_ids": ["nope"]}) == {}
    assert testing("visit", "nope") is None

    with ServerProcess(db, key, program=program, log_file=tmp_path / "server.log") as server:
        server.start()
        import httpx

        r = httpx.get(f"{server.url}/v1/blacklist",
                      headers={"authorization": f"Bearer {tokens['desk-a']}"}, timeout=10)
        assert r.status_code == 200 and len(r.json()["entries"]) >= 3
