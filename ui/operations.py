"""Run a service call off the GUI thread and get its result back on it (like Anki's QueryOp).

Every widget calls services through :class:`Operations`::

    ops.run(self._checkin.submit_code, sid, text, "scanner",
            on_success=self._show_state, group="patient", serial=True)

* The callable runs on a pool thread (``serial=True``: on the one serial lane, strictly in the
  order submitted; check-in steps of one patient must not overtake each other).
* ``on_success(result)`` / ``on_failure(error)`` run on the GUI thread (a queued signal to an
  object living there). Without ``on_failure`` the error is shown through
  :func:`ui.errors.show_error`; nothing is swallowed.
* :meth:`Operations.cancel` drops the results of everything started earlier in a group (a new
  patient: late answers about the previous one must not reach the screen). The work itself is
  not interrupted (a service call cannot be killed safely); only its result is discarded.
* The owner calls :meth:`Operations.shutdown` at exit: queued work is dropped and running work
  is waited for, so no thread outlives the application.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QWidget

from ui.errors import show_error
from ui.i18n import current_lang

__all__ = ["OpHandle", "Operations", "current_lang"]

log = logging.getLogger(__name__)

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]


@dataclass
class OpHandle:
    """One submitted operation; ``done`` is set on the GUI thread once its callback ran."""

    op_id: int
    group: str | None
    generation: int
    serial: bool
    cancelled: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    worker_thread: int | None = None  # threading.get_ident() of the thread that ran the work
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)


class _Relay(QObject):
    """Lives in the GUI thread; worker threads emit on it, so delivery is queued to the GUI."""

    finished = Signal(object, object, object)  # OpHandle, result, error


class _Job(QRunnable):
    def __init__(self, relay: _Relay, handle: OpHandle, fn: Callable[..., Any],
                 args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._handle = handle
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:  # pool thread
        self._handle.worker_thread = threading.get_ident()
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never swallowed
            error = exc
        finally:
            self._handle._finished.set()
        try:
            self._relay.finished.emit(self._handle, result, error)
        except RuntimeError:  # the relay was deleted: the application is shutting down
            log.warning("operation %s finished after its owner was deleted", self._handle.op_id)


class Operations(QObject):
    """Owner of the worker threads the screens use. Create one in the GUI thread."""

    def __init__(self, parent_widget: Callable[[], QWidget | None] | QWidget | None = None,
                 *, max_threads: int = 2, lang: Callable[[], str] = current_lang,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._parent_widget = parent_widget
        self._lang = lang
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, max_threads))
        self._serial = QThreadPool(self)
        self._serial.setMaxThreadCount(1)  # one thread + FIFO queue = strict order
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._callbacks: dict[int, tuple[SuccessCallback | None, FailureCallback | None]] = {}
        self._generations: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self.gui_thread = threading.get_ident()

    # --- submitting --------------------------------------------------------------------------

    def run(self, fn: Callable[..., Any], *args: Any, on_success: SuccessCallback | None = None,
            on_failure: FailureCallback | None = None, serial: bool = False,
            group: str | None = None, **kwargs: Any) -> OpHandle:
        gen = self._generations.get(group, 0) if group else 0
        handle = OpHandle(next(self._ids), group, gen, serial)
        if self._closed:
            handle.cancelled = True
            log.info("operation %s refused: shutting down", getattr(fn, "__name__", fn))
            return handle
        self._callbacks[handle.op_id] = (on_success, on_failure)
        (self._serial if serial else self._pool).start(_Job(self._relay, handle, fn, args, kwargs))
        return handle

    def cancel(self, group: str) -> None:
        """Results of operations of ``group`` submitted before now will not be delivered."""
        self._generations[group] = self._generations.get(group, 0) + 1

    def pending(self) -> int:
        return len(self._callbacks)

    # --- delivery (GUI thread) ---------------------------------------------------------------

    @Slot(object, object, object)
    def _deliver(self, handle: OpHandle, result: Any, error: BaseException | None) -> None:
        on_success, on_failure = self._callbacks.pop(handle.op_id, (None, None))
        handle.result, handle.error = result, error
        stale = handle.group is not None and self._generations.get(handle.group, 0) != handle.generation
        if stale or self._closed:
            handle.cancelled = True
            handle.done = True
            if error is not None:
                log.warning("stale operation %s failed: %s", handle.op_id, type(error).__name__)
            return
        try:
            if error is not None:
                if on_failure is not None:
                    on_failure(error)
                else:
                    show_error(self._widget(), error, self._lang())
            elif on_success is not None:
                on_success(result)
        finally:
            handle.done = True

    def _widget(self) -> QWidget | None:
        pw = self._parent_widget
        if pw is None or isinstance(pw, QWidget):
            return pw
        return pw()

    # --- shutdown ----------------------------------------------------------------------------

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Drop queued work, wait for running work; True if every thread finished in time."""
        self._closed = True
        self._pool.clear()
        self._serial.clear()
        ok = self._pool.waitForDone(timeout_ms) and self._serial.waitForDone(timeout_ms)
        if not ok:
            log.error("operations still running after %d ms at shutdown", timeout_ms)
        self._callbacks.clear()
        return ok
