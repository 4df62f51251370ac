"""The demo catalogue: three resorts of the group, each with rooms, facility slots, tickets and a package.

Ids are derived from ``property/code`` (uuid5), so seeding twice finds the same rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = uuid.UUID("6d1f3c1e-93a1-4c39-9d68-2f0a8d1f7c11")


def product_uuid(property_id: str, code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{property_id}/{code}")


@dataclass(frozen=True)
class SeedProduct:
    kind: str
    code: str
    name: str
    name_ko: str
    base_amount: int
    capacity: int
    max_occupancy: int = 2
    slot: tuple[str, int] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    amenities: tuple[str, ...] = ()
    text_en: str = ""
    text_ko: str = ""
    components: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class SeedResort:
    id: str
    name: str
    name_ko: str
    lat: float
    lon: float
    address: str
    winter_peak: bool
    products: tuple[SeedProduct, ...]


def _room(
    code: str,
    name: str,
    name_ko: str,
    amount: int,
    rooms: int,
    occ: int,
    size: float,
    view: str,
    en: str,
    ko: str,
) -> SeedProduct:
    return SeedProduct(
        "room_type",
        code,
        name,
        name_ko,
        amount,
        rooms,
        occ,
        attributes={"size_m2": size, "bed_type": "king" if occ <= 2 else "twin+sofa", "view": view},
        amenities=("wifi", "air-conditioning", "minibar", f"{view}-view"),
        text_en=en,
        text_ko=ko,
    )


RESORTS: tuple[SeedResort, ...] = (
    SeedResort(
        "jeju-ocean",
        "Jeju Ocean Resort",
        "제주 오션 리조트",
        33.2496,
        126.4123,
        "Jungmun Tourist Complex, Seogwipo, Jeju",
        False,
        (
            _room(
                "ocean-double",
                "Ocean Double",
                "오션 더블",
                180_000,
                40,
                2,
                33,
                "ocean",
                "A bright double room facing the sea, with a balcony.",
                "바다를 향한 발코니가 있는 밝은 더블룸.",
            ),
            _room(
                "garden-twin",
                "Garden Twin",
                "가든 트윈",
                150_000,
                30,
                3,
                30,
                "garden",
                "Twin beds over the tangerine garden.",
                "감귤 정원이 보이는 트윈룸.",
            ),
            _room(
                "family-suite",
                "Family Suite",
                "패밀리 스위트",
                320_000,
                10,
                5,
                62,
                "ocean",
                "Two rooms and a kitchenette for the whole family.",
                "가족 모두를 위한 방 두 개와 간이 주방.",
            ),
            SeedProduct(
                "facility_slot",
                "spa-morning",
                "Morning Spa (60 min)",
                "모닝 스파 (60분)",
                60_000,
                8,
                2,
                slot=("10:00", 60),
                attributes={"facility": "spa", "indoor": True},
                amenities=("sauna", "towels"),
                text_en="Volcanic stone spa.",
                text_ko="화산석 스파.",
            ),
            SeedProduct(
                "facility_slot",
                "golf-dawn",
                "Dawn Golf Round",
                "새벽 골프 라운드",
                190_000,
                12,
                4,
                slot=("06:00", 240),
                attributes={"facility": "golf", "indoor": False},
                amenities=("cart",),
                text_en="18 holes at sunrise.",
                text_ko="해돋이 18홀.",
            ),
            SeedProduct(
                "ticket",
                "aqua-park",
                "Aqua Park Day Pass",
                "아쿠아파크 1일권",
                45_000,
                800,
                10,
                attributes={"valid_days": 1, "venue": "aqua park"},
                amenities=("lockers",),
                text_en="Indoor and outdoor pools.",
                text_ko="실내외 수영장.",
            ),
            SeedProduct(
                "ticket",
                "olle-tour",
                "Olle Trail Guided Walk",
                "올레길 가이드 투어",
                25_000,
                60,
                10,
                attributes={"valid_days": 1, "age_group": "all"},
                text_en="A guided coastal walk.",
                text_ko="해안 올레길 가이드 투어.",
            ),
            SeedProduct(
                "package",
                "ocean-spa-escape",
                "Ocean Spa Escape",
                "오션 스파 이스케이프",
                260_000,
                0,
                2,
                attributes={"theme": "wellness", "nights": 1},
                amenities=("breakfast",),
                text_en="A sea-view night with a morning spa for two.",
                text_ko="바다 전망 1박과 2인 모닝 스파.",
                components=(("ocean-double", 1), ("spa-morning", 2)),
            ),
        ),
    ),
    SeedResort(
        "gangwon-ski",
        "Gangwon Snow Valley",
        "강원 스노우 밸리",
        37.6451,
        128.6804,
        "Daegwallyeong-myeon, Pyeongchang, Gangwon",
        True,
        (
            _room(
                "chalet-double",
                "Chalet Double",
                "샬레 더블",
                210_000,
                35,
                2,
                28,
                "mountain",
                "Wood-panelled room a step from the lifts.",
                "리프트 바로 옆 목조 객실.",
            ),
            _room(
                "slope-family",
                "Slope-side Family Room",
                "슬로프 패밀리룸",
                340_000,
                15,
                4,
                55,
                "slope",
                "Watch the slopes from a room for four.",
                "4인 객실에서 슬로프를 감상하세요.",
            ),
            _room(
                "budget-bunk",
                "Budget Bunk Room",
                "실속 벙크룸",
                90_000,
                20,
                4,
                20,
                "mountain",
                "Bunk beds for skiers on a budget.",
                "알뜰한 스키어를 위한 2층 침대.",
            ),
            SeedProduct(
                "facility_slot",
                "ski-lesson",
                "Beginner Ski Lesson (2 h)",
                "초급 스키 강습 (2시간)",
                80_000,
                10,
                4,
                slot=("09:30", 120),
                attributes={"facility": "ski school", "equipment_included": True},
                text_en="Small groups, certified instructors.",
                text_ko="소규모 그룹, 공인 강사.",
            ),
            SeedProduct(
                "facility_slot",
                "sauna-night",
                "Night Sauna",
                "야간 사우나",
                30_000,
                20,
                2,
                slot=("21:00", 90),
                attributes={"facility": "sauna", "indoor": True},
                text_en="Warm up after the last run.",
                text_ko="마지막 슬로프 후 몸을 녹이세요.",
            ),
            SeedProduct(
                "ticket",
                "lift-day",
                "Lift Pass (day)",
                "리프트 1일권",
                75_000,
                2000,
                10,
                attributes={"valid_days": 1, "lift_access": True},
                text_en="All lifts, all day.",
                text_ko="모든 리프트 종일 이용.",
            ),
            SeedProduct(
                "ticket",
                "sled-park",
                "Snow Sled Park",
                "눈썰매장",
                20_000,
                500,
                10,
                attributes={"valid_days": 1, "age_group": "kids"},
                text_en="Sledding for the little ones.",
                text_ko="아이들을 위한 눈썰매.",
            ),
            SeedProduct(
                "package",
                "ski-weekend",
                "Ski Weekend",
                "스키 주말 패키지",
                380_000,
                0,
                2,
                attributes={"theme": "ski", "nights": 1},
                amenities=("breakfast", "ski-locker"),
                text_en="A chalet night and two lift passes.",
                text_ko="샬레 1박과 리프트권 2매.",
                components=(("chalet-double", 1), ("lift-day", 2)),
            ),
        ),
    ),
    SeedResort(
        "busan-bay",
        "Busan Haeundae Bay",
        "부산 해운대 베이",
        35.1587,
        129.1604,
        "Haeundae Beach-ro, Haeundae-gu, Busan",
        False,
        (
            _room(
                "bay-king",
                "Bay King",
                "베이 킹",
                200_000,
                50,
                2,
                36,
                "ocean",
                "A king room over Haeundae beach.",
                "해운대 해변이 보이는 킹룸.",
            ),
            _room(
                "city-twin",
                "City Twin",
                "시티 트윈",
                140_000,
                40,
                2,
                26,
                "city",
                "Twin room with the city lights.",
                "도시 야경이 보이는 트윈룸.",
            ),
            _room(
                "penthouse",
                "Penthouse Suite",
                "펜트하우스 스위트",
                900_000,
                2,
                6,
                180,
                "ocean",
                "The top floor, a terrace and a private pool.",
                "최상층 테라스와 전용 수영장.",
            ),
            SeedProduct(
                "facility_slot",
                "infinity-pool",
                "Infinity Pool Session",
                "인피니티 풀 세션",
                40_000,
                30,
                4,
                slot=("15:00", 120),
                attributes={"facility": "pool", "indoor": False},
                text_en="Rooftop pool over the sea.",
                text_ko="바다 위 루프탑 수영장.",
            ),
            SeedProduct(
                "facility_slot",
                "yacht-sunset",
                "Sunset Yacht Cruise",
                "선셋 요트 크루즈",
                120_000,
                20,
                6,
                slot=("18:30", 90),
                attributes={"facility": "yacht", "indoor": False},
                text_en="Sail past Gwangan Bridge at dusk.",
                text_ko="해질녘 광안대교 요트 투어.",
            ),
            SeedProduct(
                "ticket",
                "aquarium",
                "SEA LIFE Aquarium",
                "씨라이프 아쿠아리움",
                32_000,
                1000,
                10,
                attributes={"valid_days": 1, "venue": "aquarium"},
                text_en="Sharks and seals.",
                text_ko="상어와 물범.",
            ),
            SeedProduct(
                "ticket",
                "beach-club",
                "Beach Club Entry",
                "비치 클럽 입장권",
                50_000,
                300,
                10,
                attributes={"valid_days": 1, "age_group": "adults"},
                text_en="Loungers and DJ sets.",
                text_ko="선베드와 DJ 공연.",
            ),
            SeedProduct(
                "package",
                "bay-romance",
                "Bay Romance",
                "베이 로맨스 패키지",
                330_000,
                0,
                2,
                attributes={"theme": "couples", "nights": 1},
                amenities=("champagne",),
                text_en="A bay-view night and a sunset cruise for two.",
                text_ko="베이 뷰 1박과 2인 선셋 크루즈.",
                components=(("bay-king", 1), ("yacht-sunset", 2)),
            ),
        ),
    ),
)

REVIEW_TEXTS = (
    (5, "en", "Wonderful stay, friendly staff and a great view."),
    (4, "ko", "깨끗하고 조용했어요. 다음에도 올게요."),
    (3, "en", "Nice place but breakfast was crowded."),
    (5, "ko", "아이들이 정말 좋아했어요!"),
    (4, "en", "Good value for the season."),
)


def nightly_amount(base: int, night: dt.date, winter_peak: bool) -> int:
    """Weekend and seasonal pricing, rounded to 1,000 won."""
    factor = 1.25 if night.weekday() in (4, 5) else 1.0
    peak = night.month in (12, 1, 2) if winter_peak else night.month in (7, 8)
    factor *= 1.4 if peak else 1.0
    return int(round(base * factor / 1000) * 1000)


def restrictions(kind: str, night: dt.date) -> tuple[int, bool, bool, bool]:
    """``(min_stay, closed, closed_to_arrival, closed_to_departure)`` of a demo night."""
    if kind != "room_type":
        return 1, False, False, False
    saturday = night.weekday() == 5
    return (
        (2 if saturday else 1),
        False,
        saturday and night.month == 8,
        night.weekday() == 6 and night.day <= 7,
    )
