"""``desk-platform`` commands as a user runs them (subprocesses), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from desk_platform.cli import main
from sync import protocol as P

from .conftest import BACKENDS, new_key_file, run_cli

pytestmark = pytest.mark.xdist_group("platform")


class Cli:
    """``desk-platform ... --db URL --key-file K`` through ``desk_platform.cli.main`` in this
    process (the same parser and handlers; a subprocess per command costs seconds on a busy
    machine, so only ``test_as_a_subprocess`` pays for that)."""

    def __init__(self, db_url: str, key_file: Path, capsys: pytest.CaptureFixture[str]):
        self.db_url, self.key_file, self.capsys = db_url, key_file, capsys

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.capsys.readouterr()
        code = main([*args, "--db", self.db_url, "--key-file", str(self.key_file)])
        out, err = self.capsys.readouterr()
        r = subprocess.CompletedProcess(list(args), code, out, err)
        if check and code != 0:
            raise AssertionError(f"desk-platform {' '.join(args)} failed:\n{out}\n{err}")
        return r

    def platform(self):
        from desk_platform.db import Database
        from desk_platform.secrets import load_secrets
        from desk_platform.service import Platform

        return Platform(Database(self.db_url, pool_size=1), load_secrets(self.db_url,
                                                                         self.key_file))


@pytest.fixture(scope="module", params=BACKENDS)
def cli_db(request: pytest.FixtureRequest, make_db, tmp_path_factory) -> tuple[str, Path]:
    work = tmp_path_factory.mktemp(f"cli-{request.param}")
    return make_db(request.param), new_key_file(work)


@pytest.fixture
def cli(cli_db: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(*cli_db, capsys)


def test_as_a_subprocess(cli_db: tuple[str, Path]):
    """The console entry point itself: readable help, and one real command."""
    top = run_cli("--help").stdout
    for cmd in ("serve", "init", "enroll-desk", "issue-booking", "cancel-booking", "blacklist",
                "keys", "seed-demo", "issue-token"):
        assert cmd in top
    db_url, key_file = cli_db
    r = run_cli("init", "--db", db_url, "--key-file", str(key_file))
    assert "platform database ready" in r.stdout


def test_subcommand_help(capsys: pytest.CaptureFixture[str]):
    for argv, word in ((["blacklist", "add", "--help"], "--reason"),
                       (["serve", "--help"], "--workers"),
                       (["issue-booking", "--help"], "--client-ip"),
                       (["issue-booking", "--help"], "--png")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0 and word in capsys.readouterr().out


def test_init_enroll_book_cancel(cli: Cli, tmp_path: Path):
    assert "platform database ready" in cli("init").stdout
    code = cli("enroll-desk", "--hospital", "H001", "--desk", "desk-01").stdout.strip()
    enrolled = cli.platform().enrollment.enroll(P.EnrollRequest(code=code))
    assert (enrolled.hospital_id, enrolled.desk_id) == ("H001", "desk-01")

    png = tmp_path / "qr.png"
    r = cli("issue-booking", "--hospital", "H001", "--department-code", "NEU",
            "--department-name", "神经内科", "--doctor", "王建国", "--id-number",
            "110101198503120252", "--account", "acct-1", "--png", str(png),
            "--slot-start", "2031-05-06T09:30:00+08:00")
    token = r.stdout.strip()
    assert token.startswith("RNB1:") and "110101198503120252" not in r.stdout + r.stderr
    import cv2
    import zxingcpp

    # QR codes only: read for every format, the QR's modules were once also taken for a linear
    # barcode ("0104218000071"), a decoder's false find, not a second code in the picture
    decoded = [x.text for x in zxingcpp.read_barcodes(cv2.imread(str(png)),
                                                      formats=zxingcpp.BarcodeFormat.QRCode)]
    assert decoded == [token]  # the PNG is a readable QR of exactly that token
    booking_id = r.stderr.split("booking ", 1)[1].split(" ", 1)[0]
    b, stored_token = cli.platform().bookings.get(booking_id)
    assert stored_token == token and b.status == P.BookingStatus.ACTIVE

    again = cli("issue-booking", "--hospital", "H001", "--department-code", "NEU",
                "--department-name", "神经内科", "--doctor", "王建国", "--id-number",
                "110101198503120252", "--png", str(tmp_path / "b.png"),
                "--slot-start", "2031-05-06T09:30:00+08:00", check=False)
    assert again.returncode == 1 and "slot already booked" in again.stderr
    assert "Traceback" not in again.stderr

    out = cli("cancel-booking", booking_id).stdout
    assert "cancelled" in out and "returns to the pool" in out
    assert cli.platform().bookings.get(booking_id)[0].status == P.BookingStatus.CANCELLED
    missing = cli("cancel-booking", "BNOPE", check=False)
    assert missing.returncode == 1 and "not_found" in missing.stderr


def test_blacklist_and_keys(cli: Cli):
    cli("init")
    number = "110101199003070011"
    entry = cli("blacklist", "add", number, "--source", "police", "--reason", "倒号").stdout
    entry_id = entry.strip()
    listing = cli("blacklist", "list").stdout
    assert entry_id in listing and "police" in listing and "0011" in listing
    assert number not in listing  # the list shows the last 4 only
    lines = cli("blacklist", "list", "--json").stdout.splitlines()
    rows = [P.BlacklistEntryWire.model_validate_json(x) for x in lines]
    mine = next(e for e in rows if e.entry_id == entry_id)
    assert (mine.valid_to - mine.valid_from).days == 91  # three months by default
    assert "removed" in cli("blacklist", "remove", number).stdout
    assert entry_id not in cli("blacklist", "list").stdout
    assert entry_id in cli("blacklist", "list", "--all").stdout
    assert cli("blacklist", "remove", entry_id, check=False).returncode == 1

    before = cli("keys", "list").stdout.splitlines()
    kid = cli("keys", "rotate").stdout.strip()
    after = cli("keys", "list").stdout.splitlines()
    assert len(after) == len(before) + 1 and after[0].startswith(kid)
    assert "current signer" in after[0] and "current signer" not in after[1]
    old_kid = after[1].split()[0]
    assert "revoked" in cli("keys", "revoke", old_kid).stdout
    assert old_kid not in cli("keys", "list").stdout
    assert cli("keys", "revoke", old_kid, check=False).returncode == 1


def test_seed_demo_command(cli: Cli, tmp_path: Path):
    summary = json.loads(cli("seed-demo", "--out", str(tmp_path / "demo")).stdout)
    assert set(summary["enrollment_codes"]) == {"desk-01", "desk-02"}
    statuses = {b["scenario"]: b["status"] for b in summary["bookings"]}
    assert statuses["cancelled"] == "cancelled" and statuses["normal"] == "active"
    assert all(Path(b["qr_png"]).is_file() for b in summary["bookings"] if b["qr_png"])


def test_missing_data_key_is_a_clear_message(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DESK_PLATFORM_KEY", raising=False)
    monkeypatch.delenv("DESK_PLATFORM_KEY_FILE", raising=False)
    # No key for a PostgreSQL URL: refused before the database is touched at all.
    code = main(["enroll-desk", "--hospital", "H1", "--desk", "d1", "--db",
                 "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"])
    err = capsys.readouterr().err
    assert code == 1 and "data key" in err and "Traceback" not in err


def test_issue_booking_records_ip_phone_and_device_for_the_anomaly_rules(cli: Cli, tmp_path: Path):
    from desk_platform.anomaly import Anomalies

    cli("init")
    for i in range(5):
        r = cli("issue-booking", "--hospital", "H001", "--department-code", "NEU",
                "--department-name", "神经内科", "--doctor", f"赵医生{i}", "--id-number",
                "110101198503120252", "--account", f"acct-cli-{i}", "--png",
                str(tmp_path / f"{i}.png"), "--client-ip", "198.51.100.77",
                "--phone", "138-0013-8077", "--device", "dev-cli-77",
                "--slot-start", f"2031-05-07T0{i}:30:00+08:00")
        assert "138-0013-8077" not in r.stdout + r.stderr
    hits = {(c.rule, c.key) for c in Anomalies(cli.platform()).scan()}
    assert ("repeat_ip", "198.51.100.77") in hits
    assert ("repeat_phone", "phone ****8077") in hits
    assert ("repeat_device", "device dev-cli-77") in hits
    plain = cli("issue-booking", "--hospital", "H001", "--department-code", "NEU",
                "--department-name", "神经内科", "--doctor", "钱医生", "--id-number",
                "110101198503120252", "--png", str(tmp_path / "p.png"),
                "--slot-start", "2031-05-08T09:30:00+08:00")  # the three stay optional
    assert plain.stdout.startswith("RNB1:")
