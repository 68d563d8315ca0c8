"""Descriptors computed in the child processes are the in-process ones, the passes of one face
are shared out over both children, and a dead child is replaced."""

from __future__ import annotations

import os
import signal

import cv2
import numpy as np
import pytest

from desk_app.faces.engine import ID_PHOTO_METHOD, LIVE_METHOD, shared_model
from desk_app.faces.remote import ProcessFaceModel, share_out

pytestmark = pytest.mark.faces


@pytest.fixture(scope="module")
def remote():
    m = ProcessFaceModel(workers=2)
    m.start()
    yield m
    m.close()


def test_child_process_gives_the_same_descriptor_as_this_process(remote, faces_dir):
    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "obama.jpg")), cv2.COLOR_BGR2RGB)
    local = shared_model()
    box = local.detect(rgb, 0)[0]
    for method in (ID_PHOTO_METHOD, LIVE_METHOD):
        here = local.encode(rgb, box, method)
        there = remote.encode(rgb, box, method)
        assert np.allclose(here, there, atol=1e-6)
    assert remote.remote_calls == 2 and remote.local_calls == 0
    child_pids = {p.pid for p in remote._executor()._processes.values()}
    assert len(child_pids) == 2 and os.getpid() not in child_pids


def test_the_passes_of_one_face_are_shared_out_in_order_and_give_the_in_process_mean(
        remote, faces_dir):
    """A live frame's chip and its mirror image are two tasks (one per child: side by side,
    as ``make bench`` measures); the card photo's six chips three and three; computed in the
    children (not the fallback here), the mean is the in-process one."""
    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "obama.jpg")), cv2.COLOR_BGR2RGB)
    box = shared_model().detect(rgb, 0)[0]
    live = remote.chips(rgb, box, LIVE_METHOD)
    card = remote.chips(rgb, box, ID_PHOTO_METHOD)
    assert (len(live), len(card)) == (LIVE_METHOD.passes, ID_PHOTO_METHOD.passes) == (2, 6)
    assert [len(g) for g in share_out(live, remote.workers)] == [1, 1]
    assert [len(g) for g in share_out(card, remote.workers)] == [3, 3]
    assert share_out(list(range(5)), 2) == [[0, 1, 2], [3, 4]]
    assert share_out([7], 2) == [[7]] and share_out([], 2) == []
    for chips in (live, card):
        calls, local = remote.remote_calls, remote.local_calls
        assert np.allclose(remote.describe(chips), shared_model().describe(chips), atol=1e-6)
        assert (remote.remote_calls, remote.local_calls) == (calls + 1, local)


def test_a_killed_child_is_replaced(remote, faces_dir):
    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "biden2.jpg")), cv2.COLOR_BGR2RGB)
    box = shared_model().detect(rgb, 0)[0]
    remote.encode(rgb, box)  # the child is up
    for pid in list(remote._executor()._processes):
        os.kill(pid, signal.SIGKILL)
    before = remote.remote_calls
    vec = remote.encode(rgb, box)
    assert vec.shape == (128,)
    assert remote.remote_calls == before + 1  # computed by a new child, not here


def test_the_thorough_look_runs_in_the_child_too(remote, faces_dir):
    """The CNN detector holds the GIL for about a second: the desk's model sends it across."""
    lfw = faces_dir / "lfw" / "Phil_Gramm" / "Phil_Gramm_0002.jpg"
    if not lfw.is_file():
        pytest.skip("LFW photos not in the shared data")
    rgb = cv2.cvtColor(cv2.imread(str(lfw)), cv2.COLOR_BGR2RGB)
    calls = remote.remote_calls
    there = remote.detect_thorough(rgb)
    assert there == shared_model().detect_thorough(rgb) and len(there) == 1
    assert remote.local_calls == 0 and remote.remote_calls == calls  # encode() counts, not this


def test_after_close_no_new_children_start_and_calls_finish_here(faces_dir):
    """The desk closing while a frame is under way: the call finishes in this process (the same
    descriptor), and no face process is started again behind the closed desk's back."""
    import threading

    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "obama.jpg")), cv2.COLOR_BGR2RGB)
    box = shared_model().detect(rgb, 0)[0]
    m = ProcessFaceModel(workers=2)
    m.start()
    first = m.encode(rgb, box)
    assert m.remote_calls == 1
    results = []
    worker = threading.Thread(target=lambda: results.extend(m.encode(rgb, box) for _ in range(5)))
    worker.start()
    m.close()  # while the worker is encoding
    worker.join(timeout=60)
    assert not worker.is_alive() and len(results) == 5
    assert all(np.allclose(v, first, atol=1e-6) for v in results)
    assert m._executor() is None and m._pool is None  # nothing started after close
    assert m.local_calls >= 1
    m.start()  # opened again on purpose: children again
    assert m.encode(rgb, box).shape == (128,) and m._pool is not None
    m.close()
