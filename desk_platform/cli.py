"""``desk-platform``: run and administer the reference central platform.

Every command takes ``--db URL`` (default: ``$DESK_PLATFORM_DB``, else a SQLite file in the
user's data folder) and ``--key-file`` (see ``secrets.py`` for where the data key comes from).
Administrative commands work on the database directly (they are run on the platform's own
hosts); desks and staff use the HTTP API.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import platformdirs

from sync import protocol as P

log = logging.getLogger(__name__)

EXIT_FAILED = 1


def default_db_url() -> str:
    env = os.environ.get("DESK_PLATFORM_DB")
    if env:
        return env
    return "sqlite:///" + str(Path(platformdirs.user_data_dir("desk-platform")) / "platform.db")


def _platform(args: argparse.Namespace, *, create_key: bool = False):  # -> Platform
    from desk_platform.db import Database, migrate
    from desk_platform.secrets import load_secrets
    from desk_platform.service import Platform

    secrets_ = load_secrets(args.db, args.key_file, create=create_key)  # before any DB work
    db = Database(args.db)
    migrate(db)
    plat = Platform(db, secrets_)
    plat.initialize(timezone=getattr(args, "timezone", None) or "Asia/Shanghai")
    return plat


# --- commands -----------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from desk_platform.db import schema_revision
    from desk_platform.secrets import ENV_KEY, key_file_for

    plat = _platform(args, create_key=True)
    where = "$" + ENV_KEY if os.environ.get(ENV_KEY) else key_file_for(args.db, args.key_file)
    print(f"platform database ready: {plat.db.url.split('@')[-1]} "
          f"(schema {schema_revision(plat.db)}); data key: {where}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from desk_platform.app import (
        ENV_ANOMALY_EVERY,
        ENV_DB,
        ENV_LIMITS,
        ENV_PHOTO_DAYS,
        ENV_RATE_STORE,
        limits_to_env,
    )
    from desk_platform.limits import LimitConfig
    from desk_platform.secrets import ENV_KEY, ENV_KEY_FILE, key_file_for

    if not args.no_init:
        _platform(args, create_key=True).db.close()  # migrations once, before the workers
    os.environ[ENV_DB] = args.db
    if not os.environ.get(ENV_KEY):
        kf = key_file_for(args.db, args.key_file)
        if kf is not None:
            os.environ[ENV_KEY_FILE] = str(kf.resolve())
    os.environ[ENV_LIMITS] = limits_to_env(LimitConfig(
        token_rate=args.rate_token, token_burst=max(args.rate_token * 4, 1),
        address_rate=args.rate_address, address_burst=max(args.rate_address * 2, 1)))
    if args.rate_store:
        os.environ[ENV_RATE_STORE] = args.rate_store
    if args.anomaly_every_min < 0:
        print("desk-platform serve: --anomaly-every-min must be 0 (off) or more",
              file=sys.stderr)
        return 2
    os.environ[ENV_ANOMALY_EVERY] = str(args.anomaly_every_min)
    if not 0 < args.alert_photo_days <= 365:
        print("desk-platform serve: --alert-photo-days must be more than 0 and at most 365",
              file=sys.stderr)
        return 2
    os.environ[ENV_PHOTO_DAYS] = str(args.alert_photo_days)
    uvicorn.run(
        "desk_platform.app:create_app_from_env", factory=True, host=args.host, port=args.port,
        workers=args.workers, log_level=args.log_level, access_log=args.access_log,
        proxy_headers=bool(args.forwarded_allow_ips),
        forwarded_allow_ips=args.forwarded_allow_ips or None,
        ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
        timeout_graceful_shutdown=10,
    )
    return 0


def cmd_enroll_desk(args: argparse.Namespace) -> int:
    plat = _platform(args)
    code = plat.enrollment.create_code(args.hospital, args.desk, created_by="cli",
                                       ttl=timedelta(hours=args.ttl_hours))
    if args.hospital_name:
        plat.enrollment.ensure_hospital(args.hospital, args.hospital_name)
    print(code.code)
    print(f"one-time code for desk {args.desk} of {args.hospital}, valid until "
          f"{code.expires_at.isoformat(timespec='minutes')}", file=sys.stderr)
    return 0


def cmd_issue_token(args: argparse.Namespace) -> int:
    plat = _platform(args)
    token, expires = plat.enrollment.issue_token(
        P.Role(args.role), args.name, hospital_id=args.hospital,
        desk_id=args.desk, days=args.days)
    print(token)
    print(f"{args.role} token for {args.name!r}"
          + (f", expires {expires.isoformat(timespec='minutes')}" if expires else ""),
          file=sys.stderr)
    return 0


def _next_quarter(now: datetime) -> datetime:
    now = now.replace(second=0, microsecond=0)
    return now + timedelta(minutes=15 - now.minute % 15)


def cmd_issue_booking(args: argparse.Namespace) -> int:
    import segno

    plat = _platform(args)
    start = (datetime.fromisoformat(args.slot_start) if args.slot_start
             else _next_quarter(datetime.now(UTC)))
    if start.tzinfo is None:
        start = start.replace(tzinfo=plat.tz)
    issued = plat.bookings.book(P.BookingRequest(
        hospital_id=args.hospital, department_code=args.department_code,
        department_name=args.department_name, doctor_name=args.doctor, slot_start=start,
        slot_minutes=args.slot_minutes, id_number=args.id_number, account_id=args.account,
        client_ip=args.client_ip, phone=args.phone, device_id=args.device))
    b = issued.booking
    png = Path(args.png or f"booking-{b.booking_id}.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    segno.make(issued.token, error="m").save(str(png), scale=args.scale, border=4)
    print(issued.token)
    print(f"booking {b.booking_id} (reference {b.reference}), {b.department_name} {b.doctor_name} "
          f"{b.slot_start.astimezone(plat.tz):%Y-%m-%d %H:%M}; QR written to {png}",
          file=sys.stderr)
    return 0


def cmd_cancel_booking(args: argparse.Namespace) -> int:
    plat = _platform(args)
    result = plat.bookings.cancel(args.booking_id)
    print(f"booking {result.booking_id} cancelled; the slot returns to the pool at "
          f"{result.slot_release_at.astimezone(plat.tz):%H:%M:%S}")
    return 0


def cmd_blacklist_add(args: argparse.Namespace) -> int:
    plat = _platform(args)
    e = plat.blacklist.add(args.id_number, source=P.BlacklistSource(args.source),
                           reason=args.reason, days=args.days, created_by=f"cli:{args.source}")
    print(e.entry_id)
    print(f"banned ****{e.last4} ({e.source.value}) until "
          f"{e.valid_to.astimezone(plat.tz):%Y-%m-%d}; version {e.version}", file=sys.stderr)
    return 0


def cmd_blacklist_remove(args: argparse.Namespace) -> int:
    plat = _platform(args)
    if args.target.startswith("BL"):
        ids = [args.target]
    else:
        ids = [r.entry.entry_id for r in plat.blacklist.find(args.target) if not r.entry.deleted]
    if not ids:
        print("no active blacklist entry for that", file=sys.stderr)
        return EXIT_FAILED
    for entry_id in ids:
        e = plat.blacklist.remove(entry_id)
        print(f"removed {e.entry_id} (****{e.last4}, {e.source.value}); version {e.version}")
    return 0


def cmd_blacklist_list(args: argparse.Namespace) -> int:
    plat = _platform(args)
    rows = plat.blacklist.entries(include_deleted=args.all, limit=args.limit)
    if args.json:
        for r in rows:
            print(r.entry.model_dump_json())
        return 0
    print(f"{'entry':24} {'last4':5} {'source':8} {'until':10} {'ver':>6}  reason")
    for r in rows:
        e = r.entry
        flag = " (removed)" if e.deleted else ""
        print(f"{e.entry_id:24} {e.last4:5} {e.source.value:8} "
              f"{e.valid_to.astimezone(plat.tz):%Y-%m-%d} {e.version:>6}  {e.reason}{flag}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    r = _platform(args).keys.rotate()
    print(r.kid)
    if r.previous_kid:
        print(f"previous key {r.previous_kid} verifies until "
              f"{datetime.fromtimestamp(r.previous_not_after or 0, UTC):%Y-%m-%d}",
              file=sys.stderr)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    ks = _platform(args).keys.keyset()
    for k in ks.keys:
        until = (datetime.fromtimestamp(k.not_after, UTC).isoformat(timespec="minutes")
                 if k.not_after else "current signer")
        print(f"{k.kid}  {k.x}  {until}")
    print(f"key set version {ks.version}", file=sys.stderr)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    _platform(args).keys.revoke(args.kid)
    print(f"key {args.kid} revoked; desks refuse its tokens after their next pull")
    return 0


def cmd_restored(args: argparse.Namespace) -> int:
    epoch = _platform(args).enrollment.epoch(renew=True)
    print(f"database epoch renewed ({epoch[:8]}...): every desk pulls every delta from the "
          "start at its next sync")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from desk_platform.seed import seed_demo

    res = seed_demo(args.db, args.out, hospital_id=args.hospital, key_file=args.key_file)
    if args.history_days > 0:
        from desk_platform.history import seed_history

        print(seed_history(_platform(args), days=args.history_days).describe(), file=sys.stderr)
    summary = {
        "db": res.db_url.split("@")[-1], "hospital_id": res.hospital_id,
        "enrollment_codes": res.enrollment_codes,
        "bookings": [{"scenario": p.scenario, "booking_id": p.booking_id,
                      "reference": p.reference, "status": p.status,
                      "qr_png": str(p.qr_png) if p.qr_png else None} for p in res.patients],
        "blacklist_entries": list(res.blacklist_entry_ids),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


# --- testing: the loopback tools' side (the desk's demo, desk-app bench sync, tests) ---------


def _json_out(value: object) -> int:
    print(json.dumps(value, ensure_ascii=False))
    return 0


def _testing(args: argparse.Namespace, action: Callable[..., object], *extra: object) -> int:
    """Run ``action(platform, request, *extra)`` on a prepared database; print its JSON."""
    from desk_platform.testing import read_request

    request = read_request(sys.stdin.read()) if getattr(args, "stdin", False) else {}
    plat = _platform(args, create_key=True)
    try:
        return _json_out(action(plat, request, *extra))
    finally:
        plat.db.close()


def cmd_testing_seed_demo(args: argparse.Namespace) -> int:
    from desk_platform.seed import seed_demo
    from desk_platform.testing import seed_json

    res = seed_demo(args.db, args.out, hospital_id=args.hospital,
                    desks=tuple(args.desk or ("desk-01", "desk-02")), key_file=args.key_file)
    return _json_out(seed_json(res))


def cmd_testing_book(args: argparse.Namespace) -> int:
    from desk_platform.testing import book_patients

    return _testing(args, lambda plat, req: book_patients(plat, args.hospital,
                                                          req.get("bookings", [])))


def cmd_testing_enroll_desks(args: argparse.Namespace) -> int:
    from desk_platform.testing import enroll_desks

    return _testing(args, lambda plat, req: enroll_desks(
        plat, [(h, d) for h, d in req.get("desks", [])]))


def cmd_testing_seed_blacklist(args: argparse.Namespace) -> int:
    from desk_platform.testing import seed_blacklist

    def run(plat: object, _req: object) -> object:
        seed_blacklist(plat, args.n)
        return {"entries": args.n}

    return _testing(args, run)


def cmd_testing_stored_visits(args: argparse.Namespace) -> int:
    from desk_platform.testing import stored_visits

    return _testing(args, lambda plat, req: stored_visits(plat.db, req.get("visit_ids", [])))


def cmd_testing_visit(args: argparse.Namespace) -> int:
    from desk_platform.testing import visit_row

    return _testing(args, lambda plat, _req: visit_row(plat.db, args.visit_id))


# --- parser -------------------------------------------------------------------------------------


def _staff(args: argparse.Namespace):  # -> Staff
    from desk_platform.staff import Staff

    return Staff(_platform(args).db)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _print_member(m, *, as_json: bool = False) -> None:  # m: StaffMember
    if as_json:
        print(json.dumps({"username": m.username, "display_name": m.display_name,
                          "role": m.role.value, "hospital_id": m.hospital_id,
                          "active": m.active, "version": m.version}, ensure_ascii=False))
    else:
        print(f"{m.username}\t{m.role.value}\t{m.hospital_id or '-'}\t"
              f"{'active' if m.active else 'DISABLED'}\t{m.display_name}")


def cmd_staff_add(args: argparse.Namespace) -> int:
    staff = _staff(args)
    _print_member(staff.add(args.username, args.name, args.role, _read_password(args),
                            hospital_id=args.hospital, actor="cli"))
    return 0


def cmd_staff_active(args: argparse.Namespace) -> int:
    _print_member(_staff(args).set_active(args.username, args.command_active, actor="cli"))
    return 0


def cmd_staff_password(args: argparse.Namespace) -> int:
    staff = _staff(args)
    _print_member(staff.set_password(args.username, _read_password(args), actor="cli"))
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    for m in _staff(args).members(args.hospital):
        _print_member(m, as_json=args.json)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=default_db_url(), metavar="URL",
                   help="database URL: sqlite:///path.db or postgresql+psycopg://user@host/db "
                        "(default: $DESK_PLATFORM_DB or a SQLite file in the user data folder)")
    p.add_argument("--key-file", metavar="PATH",
                   help="the data key file (default: $DESK_PLATFORM_KEY, $DESK_PLATFORM_KEY_FILE, "
                        "or <db>.key for SQLite)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desk-platform",
        description="Reference central platform for real-name check-in desks: HTTP API for "
                    "desks, booking keys, bookings, the shared blacklist, visit records.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str,
            parent: argparse._SubParsersAction = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_, description=help_)
        _common(p)
        p.set_defaults(func=func)
        return p

    p = add("serve", cmd_serve, "run the HTTP API (migrates the database first)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workers", type=int, default=1, help="API processes (default 1)")
    p.add_argument("--rate-token", type=float, default=50.0, metavar="N",
                   help="requests per second per token, 0: off (default 50)")
    p.add_argument("--rate-address", type=float, default=500.0, metavar="N",
                   help="requests per second per client address, 0: off (default 500)")
    p.add_argument("--rate-store", metavar="URL",
                   help="keep the rate-limit buckets in Redis (redis://host:6379/0), shared by "
                        "every API process; default: per process")
    p.add_argument("--forwarded-allow-ips", metavar="IPS",
                   help="trust X-Forwarded-For from these load balancers (comma separated)")
    p.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", metavar="PEM")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument("--no-init", action="store_true", help="skip migrations and initialization")
    p.add_argument("--anomaly-every-min", type=float, default=15.0, metavar="N",
                   help="run the anomaly rules every N minutes, in one API process of all "
                        "(a lease in the database); 0 = only on demand (default 15)")
    p.add_argument("--alert-photo-days", type=float, default=7.0, metavar="DAYS",
                   help="keep a desk alert's two photos for the security office at most DAYS "
                        "(the hospital's face retention; handled alerts' go 1 day after "
                        "handling; default 7)")
    p.add_argument("--timezone", default=None, help="the platform's local time zone at init")

    p = add("init", cmd_init, "create or migrate the database, the data key and a signing key")
    p.add_argument("--timezone", default="Asia/Shanghai",
                   help="local time zone of booking days (default Asia/Shanghai)")

    add("restored", cmd_restored, "after restoring the database from a backup: a new database "
        "epoch, so every desk pulls every delta from the start (the restored counters give "
        "numbers again that desks already have)")

    p = add("enroll-desk", cmd_enroll_desk, "print a one-time enrollment code for a desk")
    p.add_argument("--hospital", required=True, metavar="ID")
    p.add_argument("--hospital-name", metavar="NAME")
    p.add_argument("--desk", required=True, metavar="ID")
    p.add_argument("--ttl-hours", type=float, default=24.0)

    p = add("issue-token", cmd_issue_token, "print a bearer token for a person (staff, police)")
    p.add_argument("--role", required=True, choices=[r.value for r in P.Role])
    p.add_argument("--name", required=True)
    p.add_argument("--hospital", metavar="ID", help="for desk, security and hospital_admin")
    p.add_argument("--desk", metavar="ID", help="for desk tokens")
    p.add_argument("--days", type=float, default=30.0, help="valid this long (default 30)")

    p = add("issue-booking", cmd_issue_booking,
            "book a slot for a patient; print the QR token and write it as PNG")
    p.add_argument("--hospital", required=True, metavar="ID")
    p.add_argument("--department-code", required=True)
    p.add_argument("--department-name", required=True)
    p.add_argument("--doctor", required=True)
    p.add_argument("--slot-start", metavar="ISO", help="default: the next quarter hour")
    p.add_argument("--slot-minutes", type=int, default=15)
    p.add_argument("--id-number", required=True)
    p.add_argument("--account", default="walk-in", help="booking account id")
    # what the anomaly rules count (same IP / phone / device again and again)
    p.add_argument("--client-ip", metavar="IP", help="the booking client's IP address")
    p.add_argument("--phone", metavar="NUMBER", help="the booking's contact phone number")
    p.add_argument("--device", metavar="ID", help="the booking client's device id")
    p.add_argument("--png", metavar="PATH", help="QR image (default booking-<id>.png)")
    p.add_argument("--scale", type=int, default=6, help="QR module size in pixels")

    p = add("cancel-booking", cmd_cancel_booking,
            "cancel a booking (revoked at once; the slot returns after a randomized cooldown)")
    p.add_argument("booking_id")

    bl = sub.add_parser("blacklist", help="the shared blacklist").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = add("add", cmd_blacklist_add, "ban an ID number (three months by default)", bl)
    p.add_argument("id_number")
    p.add_argument("--source", default="platform", choices=[s.value for s in P.BlacklistSource])
    p.add_argument("--reason", required=True)
    p.add_argument("--days", type=float, default=91.0, help="length of the ban (default 91)")
    p = add("remove", cmd_blacklist_remove, "lift a ban (by entry id or ID number)", bl)
    p.add_argument("target", metavar="ENTRY_ID|ID_NUMBER")
    p = add("list", cmd_blacklist_list, "list entries (last 4 digits only)", bl)
    p.add_argument("--all", action="store_true", help="include removed entries")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="JSON lines")

    ks = sub.add_parser("keys", help="booking token signing keys").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    add("rotate", cmd_keys_rotate, "new signing key; the old one verifies for 30 more days", ks)
    add("list", cmd_keys_list, "the key set desks receive", ks)
    p = add("revoke", cmd_keys_revoke, "revoke a compromised key at once", ks)
    p.add_argument("kid")

    st = sub.add_parser("staff", help="staff accounts (desks cache their hospital's)"
                        ).add_subparsers(dest="what", metavar="WHAT", required=True)
    p = add("add", cmd_staff_add, "create an account (password from a prompt or stdin)", st)
    p.add_argument("username")
    p.add_argument("--name", required=True, help="the person's name as shown")
    p.add_argument("--role", required=True,
                   choices=["clerk", "security", "admin", "police", "platform", "commission"])
    p.add_argument("--hospital", metavar="ID", help="for clerk, security and admin")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for name, active in (("disable", False), ("enable", True)):
        p = add(name, cmd_staff_active, f"{name} an account (desks follow at their next sync)", st)
        p.add_argument("username")
        p.set_defaults(command_active=active)
    p = add("password", cmd_staff_password, "set a new password", st)
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    p = add("list", cmd_staff_list, "list accounts", st)
    p.add_argument("--hospital", metavar="ID")
    p.add_argument("--json", action="store_true", help="JSON lines")

    p = add("seed-demo", cmd_seed_demo,
            "demo data: a hospital, doctors, today's bookings (QR PNGs), blacklist, desk codes")
    p.add_argument("--out", default="demo-out", metavar="DIR", help="where the QR PNGs go")
    p.add_argument("--hospital", default="H001", metavar="ID")
    p.add_argument("--history-days", type=int, default=30, metavar="N",
                   help="also N days of history at several hospitals for the console (0: none)")

    te = sub.add_parser(
        "testing", help="loopback tools for the demo, the sync benchmark and tests (JSON out)",
        description="Commands the desk's demo (desk-app demo), desk-app bench sync and the "
                    "tests run against a platform database; requests as JSON on stdin, "
                    "answers as JSON on stdout. Made-up data only.",
    ).add_subparsers(dest="what", metavar="WHAT", required=True)
    p = add("seed-demo", cmd_testing_seed_demo,
            "seed-demo, printing everything the demo plays (tokens, made-up people)", te)
    p.add_argument("--out", default="demo-out", metavar="DIR", help="where the QR PNGs go")
    p.add_argument("--hospital", default="H001", metavar="ID")
    p.add_argument("--desk", action="append", metavar="ID",
                   help="a desk to make an enrollment code for (repeatable; default desk-01, "
                        "desk-02)")
    p = add("book", cmd_testing_book, "open and book slots: stdin {\"bookings\": [...]}", te)
    p.add_argument("--hospital", default="H001", metavar="ID")
    add("enroll-desks", cmd_testing_enroll_desks,
        "enroll desks at once: stdin {\"desks\": [[hospital, desk], ...]}; desk -> token", te)
    p = add("seed-blacklist", cmd_testing_seed_blacklist,
            "N random blacklist entries straight into the table", te)
    p.add_argument("n", type=int)
    add("stored-visits", cmd_testing_stored_visits,
        "how many rows each visit has: stdin {\"visit_ids\": [...]}", te)
    p = add("visit", cmd_testing_visit, "the stored row of one visit (null if none)", te)
    p.add_argument("visit_id")
    for name in ("book", "enroll-desks", "stored-visits"):
        te.choices[name].set_defaults(stdin=True)
    from desk_platform.console_cli import add_commands

    add_commands(sub, add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    from desk_platform.errors import PlatformError
    from desk_platform.secrets import KeyMissing

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PlatformError as exc:
        print(f"refused ({exc.code}): {exc.detail}", file=sys.stderr)
    except KeyMissing as exc:
        print(f"data key: {exc}", file=sys.stderr)
    except ValidationError as exc:  # its text would repeat the input (an ID number): not that
        print("invalid input: " + "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()),
            file=sys.stderr)
    except ValueError as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
