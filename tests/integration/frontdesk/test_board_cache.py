"""The room board is answered from each api process's encoded copy while the property's board version holds
(app/frontdesk/board_cache.py, migration 0098): every change the board shows, through the API or written by
any other code, moves the version, so the next read is the new board, never the kept one."""

from __future__ import annotations

from typing import Any

from app.frontdesk.board_cache import BoardKey
from tests.integration.frontdesk.conftest import DAY


async def test_every_change_the_board_shows_is_on_the_next_read(
    app: Any, client: Any, desk: Any, front_desk_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    params = {"from": desk.today.isoformat(), "to": (desk.today + 2 * DAY).isoformat()}
    free = ["free", "free"]

    async def board() -> dict[str, list[str]]:
        answer = await client.get(f"/frontdesk/{desk.property_id}/board", params=params, headers=front_desk_headers)
        assert answer.status_code == 200, answer.text
        return {r["number"]: r["cells"] for r in answer.json()["rooms"]}

    async def act(method: str, url: str, **body: Any) -> Any:
        headers = admin_headers if url.startswith("/admin") else front_desk_headers
        answer = await client.request(method, url, headers=headers, **({"json": body} if body else {}))
        assert answer.status_code in {"POST": (200, 201), "PUT": (200,), "DELETE": (204,)}[method], answer.text
        return answer.json() if answer.status_code != 204 else None

    guest = await desk.booking(desk.today, desk.today + 2 * DAY)
    assert await board() == {"101": free, "102": free, "103": free, "104": free}
    await act("PUT", f"/frontdesk/bookings/{guest}/room", room_id=str(desk.rooms[0]))
    assert (await board())["101"] == ["assigned", "assigned"]
    await act("POST", f"/frontdesk/bookings/{guest}/check-in")
    assert (await board())["101"] == ["occupied", "occupied"]
    await act("PUT", f"/frontdesk/bookings/{guest}/room", room_id=str(desk.rooms[1]))
    assert [(await board())[n] for n in ("101", "102")] == [free, ["occupied", "occupied"]]
    rooms = f"/admin/properties/{desk.property_id}/rooms"
    period = await act("POST", f"{rooms}/{desk.rooms[2]}/out-of-service", start=params["from"], end=params["to"])
    assert (await board())["103"] == ["out_of_service", "out_of_service"]
    await act("DELETE", f"{rooms}/{desk.rooms[2]}/out-of-service/{period['id']}")
    assert (await board())["103"] == free
    await act("POST", rooms, number="105", floor=1, room_type_id=str(desk.room_type))
    assert list(await board()) == ["101", "102", "103", "104", "105"]
    # Written by other code than the front desk's (the saga cancelling, a script): the triggers see it too.
    other = await desk.booking(desk.today, desk.today + DAY)
    await desk.seat(other, desk.rooms[3])
    assert (await board())["104"] == ["assigned", "free"]
    await desk.db.execute("UPDATE bookings SET status = 'cancelled' WHERE id = $1", other)
    assert (await board())["104"] == free


async def test_a_read_with_no_change_is_the_kept_answer_and_bookings_without_rooms_keep_the_version(
    app: Any, client: Any, desk: Any, front_desk_headers: dict[str, str]
) -> None:
    url = f"/frontdesk/{desk.property_id}/board"
    first = await client.get(url, headers=front_desk_headers)
    version = await desk.db.fetchval("SELECT version FROM board_versions WHERE property_id = $1", desk.property_id)
    kept = app.state.frontdesk.board_cache
    booking = await desk.booking(desk.today, desk.today + DAY, status="pending")
    await desk.db.execute("UPDATE bookings SET status = 'confirmed' WHERE id = $1", booking)  # the peak's path
    second = await client.get(url, headers=front_desk_headers)
    assert second.content == first.content
    assert await desk.db.fetchval("SELECT version FROM board_versions WHERE property_id = $1",
                                  desk.property_id) == version
    assert kept.get(BoardKey(desk.property_id, desk.today, 14), version) == second.content
