"""Regenerate the synthetic parts of the built-in Yamaguchi demo data.

    python scripts/make_demo_data.py

Writes ``noriai/demo/data/riders.csv`` and the small city-bus GTFS feed ``noriai/demo/data/gtfs/``.
Deterministic (fixed seed), so a re-run changes nothing unless this script changes. Riders are
fictional: names are common Japanese names combined at random, phone numbers use the unassigned
``083-000-`` block, and homes are jittered around approximate district centres.
"""

from __future__ import annotations

import csv
import itertools
import random
from pathlib import Path

from geo import LatLon, StraightLineModel, StraightLineParams

DATA = Path(__file__).resolve().parent.parent / "noriai" / "demo" / "data"

FAMILY = [
    ("山本", "やまもと"),
    ("田中", "たなか"),
    ("中村", "なかむら"),
    ("藤井", "ふじい"),
    ("河村", "かわむら"),
    ("原田", "はらだ"),
    ("松本", "まつもと"),
    ("吉田", "よしだ"),
    ("岡本", "おかもと"),
    ("村田", "むらた"),
    ("末永", "すえなが"),
    ("弘中", "ひろなか"),
    ("守田", "もりた"),
    ("林", "はやし"),
    ("石川", "いしかわ"),
    ("西村", "にしむら"),
    ("福田", "ふくだ"),
    ("伊藤", "いとう"),
    ("清水", "しみず"),
    ("三浦", "みうら"),
]
GIVEN = [
    ("キヨ", "きよ", "F"),
    ("ハツエ", "はつえ", "F"),
    ("文子", "ふみこ", "F"),
    ("和子", "かずこ", "F"),
    ("幸子", "さちこ", "F"),
    ("節子", "せつこ", "F"),
    ("美代子", "みよこ", "F"),
    ("静江", "しずえ", "F"),
    ("正", "ただし", "M"),
    ("勇", "いさむ", "M"),
    ("清", "きよし", "M"),
    ("茂", "しげる", "M"),
    ("博", "ひろし", "M"),
    ("実", "みのる", "M"),
    ("武", "たけし", "M"),
    ("昭二", "しょうじ", "M"),
]
# Approximate centres of residential districts of Yamaguchi City, with a spread radius (degrees).
DISTRICTS = [
    ("湯田", 34.1600, 131.4560, 0.008),
    ("大内", 34.1620, 131.5100, 0.010),
    ("宮野", 34.1960, 131.5050, 0.008),
    ("平川", 34.1460, 131.4620, 0.008),
    ("吉敷", 34.1700, 131.4400, 0.008),
    ("小郡", 34.1000, 131.4000, 0.010),
    ("仁保", 34.2150, 131.5650, 0.015),
    ("大歳", 34.1450, 131.4250, 0.008),
    ("白石", 34.1700, 131.4700, 0.005),
    ("阿知須", 34.0000, 131.3600, 0.010),
]


def make_riders(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for i in range(1, 51):
        fam, fam_kana = FAMILY[rng.randrange(len(FAMILY))]
        given, given_kana, sex = GIVEN[rng.randrange(len(GIVEN))]
        district, lat, lon, spread = DISTRICTS[(i - 1) % len(DISTRICTS)]
        home = LatLon(
            round(lat + rng.uniform(-spread, spread), 6), round(lon + rng.uniform(-spread, spread), 6)
        )
        wheelchair = i % 9 == 0
        walker = (not wheelchair) and i % 6 == 0
        companion = i % 8 == 0
        rows.append(
            {
                "rider_id": f"R{i:04d}",
                "name": f"{fam} {given}",
                "kana": f"{fam_kana} {given_kana}",
                "phone": f"083-000-{3000 + i:04d}",
                "sex": sex,
                "birth_year": str(rng.randint(1932, 1958)),
                "district": district,
                "home_lat": f"{home.lat:.6f}",
                "home_lon": f"{home.lon:.6f}",
                "wheelchair": str(wheelchair).lower(),
                "walker": str(walker).lower(),
                "companion": str(companion).lower(),
                "disability_certificate": str(wheelchair or i % 11 == 0).lower(),
                "welfare_bus_pass": str(i % 3 != 0).lower(),
                "consent_data_reuse": str(rng.random() < 0.6).lower(),
            }
        )
    return rows


# --- City-bus GTFS feed --------------------------------------------------------------------------
STOPS = [
    # stop_id, name, name_en, lat, lon
    ("S001", "新山口駅", "Shin-Yamaguchi Station", 34.0944, 131.3968),
    ("S002", "小郡支所前", "Ogori Branch Office", 34.1010, 131.4030),
    ("S003", "大歳", "Otoshi", 34.1390, 131.4300),
    ("S004", "山口大学前", "Yamaguchi University", 34.1489, 131.4666),
    ("S005", "湯田温泉駅入口", "Yuda-Onsen Station (entrance)", 34.1582, 131.4594),
    ("S006", "湯田温泉", "Yuda Onsen", 34.1648, 131.4573),
    ("S007", "情報芸術センター前", "YCAM", 34.1702, 131.4664),
    ("S008", "米屋町", "Komeya-cho", 34.1767, 131.4762),
    ("S009", "山口駅", "Yamaguchi Station", 34.1727, 131.4806),
    ("S010", "市民会館前", "Civic Hall", 34.1768, 131.4745),
    ("S011", "県庁前", "Prefectural Office", 34.1835, 131.4719),
    ("S012", "美術館前", "Museum of Art", 34.1796, 131.4754),
    ("S013", "野田学園前", "Noda Gakuen", 34.1866, 131.4789),
    ("S014", "日赤前", "Red Cross Hospital", 34.1847, 131.4838),
    ("S015", "宮野駅前", "Miyano Station", 34.1916, 131.4972),
    ("S016", "宮野中学校前", "Miyano Junior High School", 34.1958, 131.5020),
    ("S017", "ゆめタウン山口", "Youme Town Yamaguchi", 34.1594, 131.4917),
    ("S018", "大内中学校前", "Ouchi Junior High School", 34.1525, 131.5161),
]
ROUTES = [
    # route_id, short, long, long_en, stop sequence, headway (min), first, last departure (min after 0:00)
    (
        "L1",
        "1",
        "新山口駅〜湯田温泉〜山口駅",
        "Shin-Yamaguchi - Yuda Onsen - Yamaguchi Sta.",
        ["S001", "S002", "S003", "S004", "S005", "S006", "S007", "S008", "S009", "S014"],
        30,
        6 * 60 + 30,
        21 * 60 + 30,
    ),
    (
        "L2",
        "2",
        "市内循環",
        "City loop",
        ["S009", "S010", "S011", "S013", "S014", "S012", "S008", "S009"],
        30,
        7 * 60,
        19 * 60,
    ),
    (
        "L3",
        "3",
        "湯田温泉〜ゆめタウン〜大内",
        "Yuda Onsen - Youme Town - Ouchi",
        ["S006", "S005", "S017", "S018"],
        60,
        7 * 60 + 15,
        20 * 60 + 15,
    ),
    (
        "L4",
        "4",
        "山口駅〜宮野",
        "Yamaguchi Sta. - Miyano",
        ["S009", "S014", "S015", "S016"],
        60,
        6 * 60 + 45,
        20 * 60 + 45,
    ),
]


def _hms(minutes_or_seconds: int) -> str:
    s = minutes_or_seconds
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write_gtfs(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Buses run slower than taxis and dwell at stops: 18 km/h urban door to door.
    model = StraightLineModel(StraightLineParams(circuity=1.25, min_duration_s=60))
    pos = {s[0]: LatLon(s[3], s[4]) for s in STOPS}

    def w(name: str, header: list[str], rows: list[list[str]]) -> None:
        with (out / name).open("w", newline="", encoding="utf-8") as f:
            wr = csv.writer(f, lineterminator="\n")
            wr.writerow(header)
            wr.writerows(rows)

    w(
        "agency.txt",
        ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang", "agency_phone"],
        [
            [
                "noriai-demo-bus",
                "やまぐち市内バス（デモ）",
                "https://example.invalid/noriai-demo",
                "Asia/Tokyo",
                "ja",
                "083-000-0100",
            ]
        ],
    )
    w(
        "feed_info.txt",
        [
            "feed_publisher_name",
            "feed_publisher_url",
            "feed_lang",
            "feed_start_date",
            "feed_end_date",
            "feed_version",
        ],
        [
            [
                "Noriai demo data",
                "https://example.invalid/noriai-demo",
                "ja",
                "20260401",
                "20270331",
                "2026.04-demo",
            ]
        ],
    )
    w(
        "stops.txt",
        ["stop_id", "stop_name", "stop_lat", "stop_lon", "zone_id", "location_type"],
        [
            [
                s[0],
                s[1],
                f"{s[3]:.6f}",
                f"{s[4]:.6f}",
                "OGORI" if s[0] in ("S001", "S002", "S003") else "CITY",
                "0",
            ]
            for s in STOPS
        ],
    )
    w(
        "routes.txt",
        [
            "route_id",
            "agency_id",
            "route_short_name",
            "route_long_name",
            "route_type",
            "route_color",
            "route_text_color",
        ],
        [
            [r[0], "noriai-demo-bus", r[1], r[2], "3", c, "FFFFFF"]
            for r, c in zip(ROUTES, ["1F6FB2", "2E8B57", "C0392B", "8E44AD"], strict=True)
        ],
    )
    w(
        "calendar.txt",
        [
            "service_id",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "start_date",
            "end_date",
        ],
        [
            ["WEEKDAY", "1", "1", "1", "1", "1", "0", "0", "20260401", "20270331"],
            ["WEEKEND", "0", "0", "0", "0", "0", "1", "1", "20260401", "20270331"],
        ],
    )
    # Public holidays run the weekend timetable (a few listed explicitly, as GTFS-JP feeds do).
    holidays = [
        "20260429",
        "20260504",
        "20260505",
        "20260506",
        "20260720",
        "20260921",
        "20260922",
        "20261012",
        "20261103",
        "20261123",
        "20270101",
        "20270111",
        "20270211",
        "20270323",
    ]
    cal_dates = []
    for d in holidays:
        cal_dates.append(["WEEKDAY", d, "2"])
        cal_dates.append(["WEEKEND", d, "1"])
    w("calendar_dates.txt", ["service_id", "date", "exception_type"], cal_dates)
    w(
        "fare_attributes.txt",
        ["fare_id", "price", "currency_type", "payment_method", "transfers"],
        [
            ["CITY", "200", "JPY", "0", "0"],
            ["OGORI_CITY", "520", "JPY", "0", "0"],
            ["OGORI", "160", "JPY", "0", "0"],
        ],
    )
    w(
        "fare_rules.txt",
        ["fare_id", "route_id", "origin_id", "destination_id"],
        [
            ["CITY", "", "CITY", "CITY"],
            ["OGORI", "", "OGORI", "OGORI"],
            ["OGORI_CITY", "", "OGORI", "CITY"],
            ["OGORI_CITY", "", "CITY", "OGORI"],
        ],
    )
    trips, stop_times = [], []
    for route_id, _short, _long, _long_en, seq, headway, first, last in ROUTES:
        hops = [model.leg(pos[a], pos[b]).duration_s + 30 for a, b in itertools.pairwise(seq)]
        loop = seq[0] == seq[-1]
        directions = [(0, seq, hops)] if loop else [(0, seq, hops), (1, seq[::-1], hops[::-1])]
        for service, factor in (("WEEKDAY", 1), ("WEEKEND", 2)):
            for direction, stops, hop_s in directions:
                start = first
                n = 0
                while start <= last:
                    n += 1
                    trip_id = f"{route_id}-{'WD' if service == 'WEEKDAY' else 'WE'}-{direction}-{n:02d}"
                    headsign = STOPS[[s[0] for s in STOPS].index(stops[-1])][1]
                    trips.append([route_id, service, trip_id, headsign, str(direction)])
                    t = start * 60
                    for k, stop_id in enumerate(stops):
                        if k > 0:
                            t += hop_s[k - 1]
                        hhmm = _hms((t + 59) // 60 * 60)  # timetables show whole minutes
                        stop_times.append([trip_id, hhmm, hhmm, stop_id, str(k + 1)])
                    start += headway * factor
    w("trips.txt", ["route_id", "service_id", "trip_id", "trip_headsign", "direction_id"], trips)
    w("stop_times.txt", ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"], stop_times)
    trans = [["stops", "stop_name", "en", s[2], s[0]] for s in STOPS]
    trans += [["routes", "route_long_name", "en", r[3], r[0]] for r in ROUTES]
    w("translations.txt", ["table_name", "field_name", "language", "translation", "record_id"], trans)


def main() -> None:
    rng = random.Random(20260401)
    riders = make_riders(rng)
    with (DATA / "riders.csv").open("w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=list(riders[0]), lineterminator="\n")
        wr.writeheader()
        wr.writerows(riders)
    write_gtfs(DATA / "gtfs")
    print(f"wrote {len(riders)} riders and the demo GTFS feed under {DATA}")


if __name__ == "__main__":
    main()
