"""The fault run's live-sequence checker (``bench.faults.live.gaps``): what counts as a gap a subscriber
was not told about, and what does not."""

from __future__ import annotations

from bench.faults.live import Frame, Subscriber, gaps


def _f(kind: str, epoch: str, seq: int, conflated: bool = False, sub: int = 0) -> Frame:
    return Frame(0.0, sub, kind, "availability:p", epoch, seq, conflated)


def test_consecutive_updates_resumes_and_resnapshots_are_no_gap() -> None:
    frames = [_f("snapshot", "e1", 4), _f("update", "e1", 5), _f("update", "e1", 6),
              Frame(0.0, 0, "connect"), _f("update", "e1", 7),  # resumed with since after a reconnect
              _f("update", "e1", 9, conflated=True),  # a slow client's merged update carries the newest seq
              _f("snapshot", "e2", 0), _f("update", "e2", 1)]  # a new epoch, told by a snapshot
    assert gaps(frames) == []


def test_a_skipped_seq_a_repeat_a_foreign_epoch_and_an_update_before_any_snapshot_are_gaps() -> None:
    assert len(gaps([_f("snapshot", "e1", 1), _f("update", "e1", 3)])) == 1
    assert len(gaps([_f("snapshot", "e1", 1), _f("update", "e1", 2), _f("update", "e1", 2)])) == 1
    assert len(gaps([_f("snapshot", "e1", 1), _f("update", "e2", 2)])) == 1
    assert len(gaps([_f("update", "e1", 1)])) == 1
    assert gaps([_f("snapshot", "e1", 1), _f("update", "e1", 2, sub=1)])  # each subscriber has its own position


def test_a_subscriber_keeps_the_highest_version_per_night_and_resumes_from_its_position() -> None:
    sub = Subscriber(0, ["http://127.0.0.1:1"], 0.0, availability={"availability:p": ("2030-01-01", "2030-01-03")})
    item = {"product_id": "r", "night": "2030-01-01"}
    sub.on_frame({"type": "snapshot", "channel": "availability:p", "epoch": "e", "seq": 3,
                  "data": {"items": [item | {"free": 2, "version": 7}]}})
    sub.on_frame({"type": "update", "channel": "availability:p", "epoch": "e", "seq": 4,
                  "data": {"items": [item | {"free": 5, "version": 6}]}})  # older than the snapshot: ignored
    assert sub.values == {("r", "2030-01-01"): (2, 7)}
    assert '"since": {"epoch": "e", "seq": 4}' in sub._subscribe_op("availability:p")
