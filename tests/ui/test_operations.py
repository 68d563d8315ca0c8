from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from desk_app.errors import UserInputError
from ui.operations import Operations


def test_work_runs_off_the_gui_thread_and_callback_on_it(qtbot, runner):
    gui = threading.get_ident()
    seen = {}

    def work(x):
        seen["work"] = threading.get_ident()
        return x * 2

    def done(result):
        seen["callback"] = threading.get_ident()
        seen["result"] = result

    handle = runner.run(work, 21, on_success=done)
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert seen["result"] == 42
    assert seen["work"] != gui
    assert handle.worker_thread == seen["work"]
    assert seen["callback"] == gui


def test_failure_goes_to_on_failure_on_the_gui_thread(qtbot, runner):
    gui = threading.get_ident()
    got = []

    def work():
        raise UserInputError()

    handle = runner.run(work, on_success=lambda r: got.append(("ok", r)),
                        on_failure=lambda e: got.append((threading.get_ident(), e)))
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert len(got) == 1
    tid, err = got[0]
    assert tid == gui and isinstance(err, UserInputError)


def test_failure_without_handler_is_shown_not_swallowed(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    ops = Operations(parent)

    def work():
        raise UserInputError()

    handle = ops.run(work)
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    boxes = parent.findChildren(QMessageBox)
    assert boxes and boxes[0].text() == UserInputError.default_text.en
    assert ops.shutdown(5000)


def test_stale_results_are_dropped_after_cancel(qtbot, runner):
    gate = threading.Event()
    got = []
    old = runner.run(lambda: gate.wait(5) and "old", on_success=got.append, group="patient")
    runner.cancel("patient")
    new = runner.run(lambda: "new", on_success=got.append, group="patient")
    qtbot.waitUntil(lambda: new.done, timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: old.done, timeout=5000)
    assert got == ["new"]
    assert old.cancelled and not new.cancelled


def test_serial_lane_keeps_order_on_one_thread(qtbot, runner):
    order = []
    threads = set()

    def step(i):
        threads.add(threading.get_ident())
        order.append(i)
        return i

    delivered = []
    handles = [runner.run(step, i, serial=True, on_success=delivered.append) for i in range(20)]
    qtbot.waitUntil(lambda: all(h.done for h in handles), timeout=5000)
    assert order == list(range(20))
    assert delivered == list(range(20))
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_shutdown_waits_for_running_work_and_refuses_new(qtbot):
    ops = Operations()
    started = threading.Event()
    finished = threading.Event()

    def slow():
        started.set()
        finished.wait(0.3)
        finished.set()

    ops.run(slow)
    assert started.wait(5)
    assert ops.shutdown(5000)
    assert finished.is_set()
    late = ops.run(lambda: 1)
    assert late.cancelled


@pytest.mark.parametrize("serial", [False, True])
def test_callback_exception_is_reported(qtbot, runner, serial, monkeypatch):
    """A bug in a callback is not swallowed: it propagates to the exception hook."""
    import sys

    raised = []
    monkeypatch.setattr(sys, "excepthook", lambda t, v, tb: raised.append(v))
    h = runner.run(lambda: 1, serial=serial, on_success=lambda r: 1 / 0)
    qtbot.waitUntil(lambda: h.done, timeout=5000)
    assert raised and isinstance(raised[0], ZeroDivisionError)


def test_exception_hook_follows_the_language(qtbot, _english_then_reset):
    import sys

    from ui.errors import ExceptionHook

    parent = QWidget()
    qtbot.addWidget(parent)
    hook = ExceptionHook("zh_CN")
    hook.parent_widget = parent
    hook.install()
    try:
        _english_then_reset.set_language("en")
        try:
            raise UserInputError()
        except UserInputError:
            hook._hook(*sys.exc_info())
        qtbot.waitUntil(lambda: bool(parent.findChildren(QMessageBox)), timeout=3000)
        assert parent.findChildren(QMessageBox)[0].text() == UserInputError.default_text.en
    finally:
        hook.uninstall()
