"""A room out of order lowers what can be sold of its type (through the inventory aggregate), never below
what is sold; putting it back raises it again; both are availability events."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.integration.frontdesk.conftest import DAY, make_desk
from tests.integration.holds.conftest import hold_body


def _oos(property_id: str, room: Any) -> str:
    return f"/admin/properties/{property_id}/rooms/{room}/out-of-service"


async def test_the_last_sellable_room_of_a_night_with_a_room_out_of_order_cannot_be_sold(
    client: Any, catalog_factory: Any, admin_headers: dict[str, str], guest_headers: dict[str, str]
) -> None:
    resort = await catalog_factory.resort(nights=2)  # the room type: capacity 5 a night
    prop, room_type = resort.property["id"], resort.room["id"]
    rooms = [await catalog_factory.fetchval(
        "INSERT INTO rooms (property_id, number, floor, room_type_id) VALUES ($1, $2, 1, $3) RETURNING id",
        prop, f"{i + 1}", room_type) for i in range(5)]
    night = {"start": resort.start.isoformat(), "end": (resort.start + DAY).isoformat()}
    taken = await client.post(_oos(prop, rooms[0]), json=night, headers=admin_headers)
    assert taken.status_code == 201, taken.text

    async def hold(quantity: int) -> Any:
        return await client.post("/holds", json=hold_body(resort.room, resort.start, quantity=quantity),
                                 headers=guest_headers | {"Idempotency-Key": uuid.uuid4().hex})

    refused = await hold(5)
    assert refused.status_code == 409, refused.text
    assert (await hold(4)).status_code == 201
    assert (await hold(1)).status_code == 409  # the fifth room is the one out of order
    back = await client.delete(f"{_oos(prop, rooms[0])}/{taken.json()['id']}", headers=admin_headers)
    assert back.status_code == 204
    assert (await hold(1)).status_code == 201  # back in service: sellable again


async def test_a_room_cannot_go_out_of_order_on_a_sold_out_night_and_the_refusal_names_the_bookings(
    client: Any, catalog_factory: Any, sync_resources: Any, admin_headers: dict[str, str]
) -> None:
    desk = await make_desk(catalog_factory, sync_resources.db, rooms=2, capacity=1)
    sold = await desk.booking(desk.today + 2 * DAY, desk.today + 3 * DAY)  # the night's only unit
    body = {"start": (desk.today + DAY).isoformat(), "end": (desk.today + 4 * DAY).isoformat()}
    refused = await client.post(_oos(desk.property_id, desk.rooms[1]), json=body, headers=admin_headers)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["bookings"], refused.json()["nights"]) == (
        "capacity_sold", [str(sold)], [(desk.today + 2 * DAY).isoformat()])
    counts = await desk.db.fetch("SELECT out_of_service FROM inventory WHERE product_id = $1 AND night >= $2"
                                 " AND night < $3", desk.room_type, desk.today + DAY, desk.today + 4 * DAY)
    assert [c["out_of_service"] for c in counts] == [0, 0, 0]  # nothing moved
    assert await desk.db.fetchval("SELECT count(*) FROM room_assignments WHERE room_id = $1", desk.rooms[1]) == 0


async def test_out_of_order_and_back_move_the_count_and_are_availability_events(
    client: Any, desk: Any, admin_headers: dict[str, str]
) -> None:
    body = {"start": (desk.today + DAY).isoformat(), "end": (desk.today + 3 * DAY).isoformat(), "reason": "leak"}
    nights = [desk.today + DAY, desk.today + 2 * DAY]

    async def out_of_service() -> list[int]:
        return [await desk.db.fetchval("SELECT out_of_service FROM inventory WHERE product_id = $1 AND night = $2",
                                       desk.room_type, n) for n in nights]

    taken = await client.post(_oos(desk.property_id, desk.rooms[0]), json=body, headers=admin_headers)
    assert taken.status_code == 201, taken.text
    assert await out_of_service() == [1, 1]
    for _ in range(2):  # idempotent: the second DELETE finds no period and moves nothing
        gone = await client.delete(f"{_oos(desk.property_id, desk.rooms[0])}/{taken.json()['id']}",
                                   headers=admin_headers)
        assert gone.status_code == 204
    assert await out_of_service() == [0, 0]
    events = await desk.db.fetch("SELECT payload::text AS p FROM outbox WHERE topic = 'inventory'"
                                 " AND aggregate_id = $1 ORDER BY id", str(desk.room_type))
    causes = [(json.loads(e["p"])["cause"], [n["out_of_service"] for n in json.loads(e["p"])["nights"]])
              for e in events]
    assert causes == [("room.out_of_service", [1, 1]), ("room.back_in_service", [0, 0])]
