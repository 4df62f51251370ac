"""Prepared frames: the bytes built once per update are the frame the ``websockets`` library would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from realtime.wire import direct_writer, prepare


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536])  # the three header lengths, at their edges
def test_a_prepared_frame_is_the_unmasked_text_frame_of_its_text(size: int) -> None:
    text = ("é" + "x" * size)[:max(size - 1, 0)]  # ``size`` bytes of UTF-8, one character of two bytes
    assert prepare(text) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


def test_a_send_that_is_not_uvicorns_websocket_gets_no_direct_writer() -> None:
    async def send(message: object) -> None:
        return None

    assert direct_writer(send) is None
