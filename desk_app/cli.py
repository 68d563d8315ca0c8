"""The ``desk-app`` command line: the desk application and the tools around it.

One subcommand tree. Each command names the function that does the work as ``module:function``
and imports it only when run, so ``desk-app --help`` is instant and a command that needs Qt or
the face model loads it only when it is the one asked for. Every handler takes the parsed
arguments and returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from desk_app import __version__
from desk_app.errors import DeskError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _handler(target: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        module_name, func_name = target.split(":")
        module = importlib.import_module(module_name)
        return int(getattr(module, func_name)(args) or 0)

    run.target = target  # type: ignore[attr-defined]
    return run


def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    """The options every command takes, before or after the command's name. A subcommand's
    parser must not set them to None when they are not repeated there: argparse would
    overwrite what was given before the command (``desk-app --data-dir D eval ...``)."""
    default = None if top else argparse.SUPPRESS
    p.add_argument("--data-dir", metavar="DIR", default=default,
                   help="keep settings, database and logs below DIR (default: the user's folders)")
    p.add_argument("--lang", choices=["zh_CN", "en"], default=default,
                   help="language of messages (default: settings)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desk-app",
        description="实名就诊核验 — real-name check-in desk for hospital registration windows.\n"
                    "Without a command it opens the desk application.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"desk-app {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="open the desk application (the default)")
    _common(p)
    p.add_argument("--offscreen", action="store_true", help="no window (Qt offscreen platform)")
    p.add_argument("--security-office", action="store_true",
                   help="the security office: only the alerts of every window of the hospital, "
                        "live; sign in as security staff or an administrator")
    p.set_defaults(func=_handler("desk_app.app:run_main"))

    p = sub.add_parser(
        "demo",
        help="run the platform on loopback and the desk on simulated devices",
        description="Starts the reference platform (the separate program desk-platform) with a "
                    "temporary SQLite database, seeds it, enrolls a desk and opens the desk "
                    "application on scripted scenarios.",
    )
    _common(p)
    p.add_argument("--offscreen", action="store_true", help="no window; run scenarios and exit")
    p.add_argument("--scenario", default="all", help="scenario name or 'all' (default: all)")
    p.add_argument("--json", action="store_true", help="print a last-line JSON summary")
    p.add_argument("--photos", metavar="DIR",
                   help="folder of face photos with the scenarios' file names (default: the "
                        "example photos shipped in resources/demo/faces)")
    p.add_argument("--platform-command", metavar="CMD",
                   help="how to start the reference platform, e.g. \"/opt/venv/bin/python -m "
                        "desk_platform\" (default: $DESK_PLATFORM_COMMAND, this Python's "
                        "desk_platform in a source checkout, or desk-platform on the PATH)")
    p.set_defaults(func=_handler("desk_app.app:demo_main"))

    # --- evaluation tools -------------------------------------------------------------------------
    ev = sub.add_parser("eval", help="measure a part of the pipeline on a data set").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = ev.add_parser("ids", help="check ID numbers, one per line (stdin when FILE is omitted)")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("--json", action="store_true", help="JSON lines")
    p.set_defaults(func=_handler("desk_app.identity.evaluate:main"))

    p = ev.add_parser("qr", help="read QR codes in photos listed in INDEX.csv")
    p.add_argument("index", metavar="INDEX.csv", help="columns image,expected_text_file")
    p.add_argument("--json", action="store_true", help="last line: JSON summary")
    p.add_argument("--decoder", choices=["both", "pyzbar", "zxing"], default="both",
                   help="measure one decoder alone (default: both, pyzbar first)")
    p.set_defaults(func=_handler("devices.qr.evaluate:main"))

    p = ev.add_parser("idcards", help="read ID numbers from photos of cards listed in INDEX.csv")
    p.add_argument("index", metavar="INDEX.csv", help="columns image,expected_id_number,name")
    p.add_argument("--json", action="store_true", help="last line: JSON summary")
    p.add_argument("--engine", choices=["rapidocr", "tesseract"], default="rapidocr",
                   help="OCR engine for the number line (default: rapidocr)")
    p.set_defaults(func=_handler("devices.idcard.evaluate:main"))

    p = ev.add_parser("faces", help="judge face pairs listed in PAIRS.csv as a desk would")
    _common(p)
    p.add_argument("pairs", metavar="PAIRS.csv", help="columns file_a,file_b,same_person")
    p.add_argument("--degrade-a", choices=["none", "idcard"], default="none",
                   help="turn the first image into an ID-card style 102x126 portrait")
    p.add_argument("--json", action="store_true", help="last line: JSON summary")
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    p.add_argument("--no-cache", action="store_true",
                   help="keep no face encodings on disk (default: sealed with the desk's key, "
                        "deleted after privacy.face_retention_days)")
    p.set_defaults(func=_handler("desk_app.faces.evaluate:main"))

    cal = sub.add_parser("calibrate", help="propose thresholds from a site's data").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = cal.add_parser("faces", help="propose face thresholds from pairs files (nested "
                                     "cross-validation by person) or from the clerks' calls on "
                                     "undecided faces at this desk")
    _common(p)
    p.add_argument("pairs", metavar="PAIRS.csv", nargs="*",
                   help="columns file_a,file_b,same_person; one population a file")
    p.add_argument("--from-desk-history", action="store_true",
                   help="calibrate on this desk's clerk calls (distance + same / not the same)")
    p.add_argument("--strict", metavar="PAIRS.csv", action="append",
                   help="a population that must have no impostor judged MATCH before any other "
                        "goal (the site's patients); repeatable. Without it every file is strict")
    p.add_argument("--all-pairs", action="store_true",
                   help="judge every photo of a file against every other one, not only the "
                        "listed pairs")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--target-far", type=float, default=0.001,
                   help="also try a match threshold at this quantile of a normal fitted to the "
                        "impostor distances (default 0.001)")
    p.add_argument("--degrade-a", choices=["none", "idcard"], default="idcard")
    p.add_argument("--save", action="store_true", help="write the proposal into the settings")
    p.add_argument("--no-cache", action="store_true", help="keep no face encodings on disk")
    p.set_defaults(func=_handler("desk_app.faces.calibrate:main"))
    p = cal.add_parser("cohort", help="choose the strangers' cohort that face scores are judged "
                                      "against, and its thresholds (nested cross-validation by "
                                      "person); --out writes the cohort file")
    _common(p)
    p.add_argument("pairs", metavar="PAIRS.csv", nargs="*",
                   help="columns file_a,file_b,same_person; one population a file")
    p.add_argument("--strict", metavar="PAIRS.csv", action="append", default=[],
                   help="a population that must have no impostor judged MATCH first; repeatable")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--max-far", type=float, default=1e-3,
                   help="no match threshold under which more than this share of the strict "
                        "population's strangers, every photo against every other, would match "
                        "(default 0.001)")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--out", metavar="COHORT.npz",
                   help="write the cohort chosen and built on all the photos (centres only)")
    p.add_argument("--no-cache", action="store_true", help="keep no face encodings on disk")
    p.set_defaults(func=_handler("desk_app.faces.cohort_study:main"))

    # --- records ---------------------------------------------------------------------------------
    au = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = au.add_parser("verify", help="check the hash chain: find edited or deleted entries")
    _common(p)
    p.set_defaults(func=_handler("desk_app.storage.cli:audit_verify"))

    us = sub.add_parser("users", help="local accounts (clerk, security, admin)").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = us.add_parser("add", help="create an account (asks for the password)")
    _common(p)
    p.add_argument("username")
    p.add_argument("--role", choices=["clerk", "security", "admin"], required=True)
    p.add_argument("--display-name", default="")
    p.set_defaults(func=_handler("desk_app.app:users_main"))
    p = us.add_parser("list", help="list the accounts")
    _common(p)
    p.set_defaults(func=_handler("desk_app.app:users_main"))
    p = us.add_parser("unlock", help="unlock an account locked after failed logins")
    _common(p)
    p.add_argument("username")
    p.set_defaults(func=_handler("desk_app.app:users_main"))

    ob = sub.add_parser(
        "outbox", help="what waits for the platform, and what it refused for good").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = ob.add_parser("list", help="the count waiting, and the items the platform refused for "
                                   "good (parked) with the reason")
    _common(p)
    p.set_defaults(func=_handler("desk_app.storage.cli:outbox_list"))
    p = ob.add_parser("retry", help="put parked items back in the queue (e.g. once the platform "
                                    "or this desk's enrolment is mended)")
    _common(p)
    p.add_argument("ids", nargs="*", type=int, metavar="ID",
                   help="the items' numbers, as `outbox list` shows them")
    p.add_argument("--all", action="store_true", help="every parked item")
    p.set_defaults(func=_handler("desk_app.storage.cli:outbox_retry"))

    st = sub.add_parser("settings", help="show or change settings").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = st.add_parser("show", help="print the settings in effect (TOML)")
    _common(p)
    p.set_defaults(func=_handler("desk_app.settings_cli:show"))
    p = st.add_parser("set", help="set one value, e.g. faces.best_k 4")
    _common(p)
    p.add_argument("key", help="section.name")
    p.add_argument("value")
    p.set_defaults(func=_handler("desk_app.settings_cli:set_value"))
    p = st.add_parser("path", help="print where the files are")
    _common(p)
    p.set_defaults(func=_handler("desk_app.settings_cli:paths"))

    # --- benchmarks ------------------------------------------------------------------------------
    be = sub.add_parser("bench", help="benchmarks").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = be.add_parser("sync", help="the real platform with N simulated desks")
    p.add_argument("--desks", type=int, default=20)
    p.add_argument("--visits", type=int, default=2000)
    p.add_argument("--chaos", action="store_true", help="kill and restart the server, inject faults")
    p.add_argument("--db", metavar="URL", help="platform database URL (default: SQLite in a temp dir)")
    p.add_argument("--blacklist", type=int, default=0, metavar="N",
                   help="then time one desk pulling N blacklist entries")
    p.add_argument("--store", choices=("auto", "real", "memory"), default="auto",
                   help="desk outboxes: real stores, in memory, or by size (auto)")
    p.add_argument("--platform-command", metavar="CMD",
                   help="how to start the reference platform (as for demo)")
    p.set_defaults(func=_handler("sync.bench:main"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:  # no command: open the desk application
        args.offscreen = False
        func = _handler("desk_app.app:run_main")
    lang = getattr(args, "lang", None) or "zh_CN"
    try:
        return func(args)
    except DeskError as exc:
        print(f"{exc.title(lang)}: {exc.message(lang)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - the last resort of the command line: say it, then exit
        import traceback

        traceback.print_exc()
        print("desk-app: internal error (the traceback above is also in the log file)",
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
