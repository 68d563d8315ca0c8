"""Items the platform refused for good (parked): kept on the desk, listed for hospital IT without
personal data, put back in the queue with `desk-app outbox retry`, purged after the visits' own
retention, not after a week like the items the platform took."""

from __future__ import annotations

from datetime import timedelta

from desk_app.cli import main as cli_main

from .conftest import make_visit, synced


def park(store, ids, why="refused by the platform (HTTP 403)"):
    assert store.outbox.park(ids, why) == len(ids)


def test_parked_items_are_listed_requeued_and_kept_longer_than_sent_ones(store, clock):
    visits = [store.visits.record(make_visit()) for _ in range(3)]
    items = store.outbox.pending()
    sent, refused, waiting = items
    store.outbox.mark_sent([sent.id])
    park(store, [refused.id])
    assert [i.id for i in store.outbox.parked()] == [refused.id]
    [p] = store.outbox.parked()
    assert p.payload == {} and p.visit_id == visits[1].visit_id  # never decrypted to list it
    assert p.last_error == "refused by the platform (HTTP 403)" and p.sent_at is not None
    assert [i.id for i in store.outbox.pending()] == [waiting.id]

    clock.advance(days=8)
    assert store.outbox.purge_sent(timedelta(days=7), timedelta(days=30)) == 1  # the sent one
    assert [i.id for i in store.outbox.parked()] == [refused.id]

    assert store.outbox.requeue([waiting.id, 999]) == 0  # not parked: left alone
    assert store.outbox.requeue() == 1
    assert [i.id for i in store.outbox.pending()] == [refused.id, waiting.id]
    assert store.outbox.parked() == []
    # Sent after all: an ordinary sent item again, purged after a week.
    store.outbox.mark_sent([refused.id])
    clock.advance(days=8)
    assert store.outbox.purge_sent(timedelta(days=7), timedelta(days=30)) == 1


def test_parked_items_go_after_the_visits_retention(store, clock):
    store.visits.record(make_visit())
    [item] = store.outbox.pending()
    park(store, [item.id])
    clock.advance(days=29)
    synced(store)
    assert store.outbox.purge_sent(timedelta(days=7), timedelta(days=30)) == 0
    clock.advance(days=2)
    synced(store)
    assert store.outbox.purge_sent(timedelta(days=7), timedelta(days=30)) == 1
    assert store.outbox.parked() == [] and store.outbox.count() == 0


def test_the_command_lists_and_retries_parked_items(store, app_paths, capsys):
    data_dir = str(app_paths.config_dir.parent)
    store.visits.record(make_visit(id_number="110101199003071234", person_name="张三丰"))
    store.visits.record(make_visit())
    first, second = store.outbox.pending()
    park(store, [first.id, second.id])

    assert cli_main(["outbox", "list", "--data-dir", data_dir, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Waiting for the platform: 0" in out and "Refused for good, kept on this PC: 2" in out
    assert f"#{first.id}" in out and "HTTP 403" in out and "visit" in out
    assert "1101011990" not in out and "张三丰" not in out  # nothing personal

    # One of the two, a number that is not parked, then none at all: said, nothing else moved.
    assert cli_main(["outbox", "retry", str(first.id), "4242", "--data-dir", data_dir,
                     "--lang", "en"]) == 1
    out, err = capsys.readouterr()
    assert "Put back in the queue: 1" in out and "#4242" in err
    assert [i.id for i in store.outbox.pending()] == [first.id]
    assert cli_main(["outbox", "retry", "--data-dir", data_dir]) == 2
    assert "--all" in capsys.readouterr().err
    assert cli_main(["outbox", "retry", "--all", "--data-dir", data_dir]) == 0
    assert [i.id for i in store.outbox.pending()] == [first.id, second.id]

    audit = store.audit.entries(10, "outbox.requeued")
    assert [(e.actor, e.detail["ids"]) for e in audit] == [("cli", [second.id]),
                                                            ("cli", [first.id])]
    assert store.audit.verify().ok


def test_the_command_without_a_database_says_so(tmp_path, capsys):
    assert cli_main(["outbox", "list", "--data-dir", str(tmp_path / "none"), "--lang", "en"]) == 1
    assert "No local database" in capsys.readouterr().err
