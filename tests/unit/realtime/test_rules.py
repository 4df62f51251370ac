"""Pure rules of live updates: channel names, frames, subscribe parameters, origins, front-desk stays."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.settings import Settings
from realtime.access import allowed_origins, origin_ok
from realtime.channels import parse_channel, snapshot_frame, update_frame
from realtime.session import Invalid, _range, _since


@pytest.mark.parametrize("name", ["availability:jeju-1", "booking:7d1f6c1e-0d7a", "frontdesk:seoul_2"])
def test_channel_names(name: str) -> None:
    channel = parse_channel(name)
    assert channel is not None and channel.name == name


@pytest.mark.parametrize("name", [None, 3, "", "weather:seoul", "availability:", "booking:a b", "booking:-x",
                                  "availability:" + "x" * 65, "availability:jeju:1"])
def test_bad_channel_names(name: object) -> None:
    assert parse_channel(name) is None


def test_frames_are_json_with_the_data_embedded_as_encoded() -> None:
    frame = json.loads(update_frame("booking:b1", "e1", 7, b'{"status":"paid"}'))
    assert frame == {"type": "update", "channel": "booking:b1", "epoch": "e1", "seq": 7, "data": {"status": "paid"}}
    assert json.loads(snapshot_frame("booking:b1", "e1", 0, {"a": 1}))["type"] == "snapshot"


def test_date_range_rules() -> None:
    today = dt.date(2027, 3, 2)  # at the resort; the server may still be on the 1st
    assert _range({}, 62, today) == (today, today + dt.timedelta(days=14))
    start = today + dt.timedelta(days=3)
    assert _range({"from": start.isoformat(), "to": (start + dt.timedelta(days=62)).isoformat()}, 62, today)[0] == start
    assert _range({"from": "2027-03-01"}, 62, today)[0] == dt.date(2027, 3, 1)  # a day of grace
    with pytest.raises(Invalid):
        _range({"from": "2027-02-28"}, 62, today)
    for bad in ({"from": "2030-02-30"}, {"from": 5}, {"from": start.isoformat(), "to": start.isoformat()},
                {"from": start.isoformat(), "to": (start + dt.timedelta(days=63)).isoformat()},
                {"from": "2001-01-01", "to": "2001-01-05"}):
        with pytest.raises(Invalid):
            _range(bad, 62, today)


def test_since_rules() -> None:
    assert _since({}) is None
    assert _since({"since": {"epoch": "e", "seq": 0}}) == ("e", 0)
    for bad in ({"since": 3}, {"since": {"epoch": 1, "seq": 1}}, {"since": {"epoch": "e", "seq": -1}},
                {"since": {"epoch": "e", "seq": True}}, {"since": {"epoch": "e"}}):
        with pytest.raises(Invalid):
            _since(bad)


def test_origins_come_from_the_public_url_and_cors_origins() -> None:
    allowed = allowed_origins(Settings(public_url="https://resort.example/app", cors_origins=["https://m.example"]))
    assert origin_ok("https://resort.example", allowed) and origin_ok("https://M.example/", allowed)
    assert not origin_ok("https://evil.example", allowed) and not origin_ok(None, allowed)
    assert not origin_ok("http://resort.example", allowed)
