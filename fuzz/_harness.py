"""The common body of the atheris harnesses: instrument our code, run one target under a time
and memory budget per input, print how many inputs ran.

Run one: ``python fuzz/fuzz_booking.py -atheris_runs=100000`` (any libFuzzer flag works, e.g.
``-max_total_time=600``, ``-timeout=2``, ``-rss_limit_mb=2048`` or a corpus folder).
"""

from __future__ import annotations

import atexit
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(name: str) -> None:
    import atheris

    with atheris.instrument_imports(include=["desk_app", "devices", "sync", "fuzz"]):
        from fuzz import targets

    target = targets.TARGETS[name]
    count = [0]
    started = time.monotonic()

    def one(data: bytes) -> None:
        count[0] += 1
        t0 = time.perf_counter()
        target(data)
        took = time.perf_counter() - t0
        if took > targets.TIME_BUDGET_S:
            raise AssertionError(f"{name}: one input took {took:.2f} s ({len(data)} bytes)")

    def report() -> None:
        # libFuzzer's hang watchdog is a periodic SIGALRM; once the runs are done the
        # interpreter's shutdown (onnxruntime, OpenCV, dlib) can outlast it on a loaded machine,
        # and an alarm then kills a clean run with signal 14. The fuzzing is over: stop it.
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        print(f"FUZZ {name}: {count[0]} inputs in {time.monotonic() - started:.1f} s",
              flush=True)

    atexit.register(report)
    args = list(sys.argv)
    # libFuzzer's own budgets: a hang is a crash after 5 s, memory above 2 GB is a crash.
    if not any(a.startswith("-timeout=") for a in args):
        args.append("-timeout=5")
    if not any(a.startswith("-rss_limit_mb=") for a in args):
        args.append("-rss_limit_mb=2048")
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=8192" if name == "idcard" else "-max_len=4096")
    if not any(not a.startswith("-") for a in args[1:]):
        # No corpus or input file given: start from the valid seeds in a throwaway folder.
        import tempfile

        corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
        for i, seed in enumerate(targets.seeds(name)):
            (corpus / f"seed{i}").write_bytes(seed)
        args.append(str(corpus))
    atheris.Setup(args, one)
    atheris.Fuzz()
