"""The status reaches the GUI thread as a Qt signal, from the worker's own thread."""

from __future__ import annotations

import threading

from sync.qt import SyncStatusSignal
from sync.worker import SyncState


def test_status_signal_arrives_on_the_gui_thread(qtbot, platform, proxy, desks):
    desk = desks(proxy.url)
    desk.record(2)
    signal = SyncStatusSignal(desk.worker)
    seen: list[tuple[str, bool]] = []
    gui = threading.get_ident()
    signal.status_changed.connect(
        lambda s: seen.append((s.state, threading.get_ident() == gui)))
    with qtbot.waitSignal(signal.status_changed, timeout=10_000,
                          check_params_cb=lambda s: s.state == SyncState.ONLINE):
        desk.worker.start()
    assert ("online", True) in seen and all(on_gui for _, on_gui in seen)
    assert signal.current().pending == 0
    desk.worker.stop()
