"""The Qt binding itself, as the desk uses it all day: a camera emits a signal per frame.

PySide6 6.12.0 dropped a reference to ``True`` on every ``Signal.emit()`` (and one to ``None``
on every call of a Qt method returning nothing); after a few thousand frames Python aborted
with "bool_dealloc". pyproject.toml keeps that release out; this test
fails (instead of crashing hours later at a window) on any binding with the same fault.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    frame = Signal(object)
    flag = Signal(bool)


def test_signal_emit_keeps_reference_counts(qapp):
    e = _Emitter()
    got: list[object] = []
    e.frame.connect(got.append)
    before_true, before_false = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(200):  # few enough that a leaking binding does not abort the test process
        e.frame.emit(i)
        e.flag.emit(i % 2 == 0)
    assert len(got) == 200
    # A few references may come and go with the interpreter's own bookkeeping; a leak of one
    # per emit shows up as -200 or worse.
    assert sys.getrefcount(True) - before_true > -20
    assert sys.getrefcount(False) - before_false > -20


def test_qt_methods_returning_nothing_keep_the_reference_count_of_none(qtbot):
    """The same release also lost a reference to ``None`` per call of a Qt method returning
    nothing (``setText``, ``setEnabled``...): about 350 per patient; the soak died at patient
    223."""
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(200):
        label.setText(str(i))
        label.setEnabled(i % 2 == 0)
    assert label.text() == "199"
    assert sys.getrefcount(None) - before > -20
