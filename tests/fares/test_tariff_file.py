"""A malformed tariff file gives one clear error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fares import TariffError, load_tariff, parse_tariff
from noriai.demo import TARIFF_PATH

GOOD = Path(TARIFF_PATH).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("initial_fare_yen = 680", 'initial_fare_yen = "six hundred"', r"field meter\.initial_fare_yen: "),
        ("step_distance_m = 245", "step_distance_m = 0", r"field meter\.step_distance_m: .*greater than 0"),
        ('start = "22:00"', 'start = "10pm"', r"field night\.start: .*expected HH:MM"),
        (
            'coefficient = "1.10"',
            "coefficient = 1.10",
            r"field predetermined\.coefficient\[0\]\.coefficient: .*strings",
        ),
        ('coefficient = "1.10"', 'coefficient = "7"', r"within \[0\.5, 2\.0\]"),
        ('mode = "half_up"', 'mode = "bankers"', r"field rounding\.mode: "),
        (
            "[vehicle_class.small]",
            "[vehicle_class.tiny]",
            r"field vehicle_class\.tiny\.\[key\]|vehicle_class",
        ),
        (
            "surcharge_percent = 20",
            "surcharge_percent = 20\nsurprise = 1",
            r"field night\.surprise: Extra inputs",
        ),
        ('rule = "distance_split"', 'rule = "lottery"', r"field shared\.rule: "),
    ],
)
def test_malformed_field_is_named(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(TariffError, match=message) as err:
        parse_tariff(GOOD.replace(old, new, 1), "tariff.toml")
    assert str(err.value).startswith("tariff.toml: ")
    assert "\n" not in str(err.value)


def test_missing_section_is_named() -> None:
    without_meter = GOOD.replace("[meter]", "[meter_old]")
    with pytest.raises(TariffError, match=r"field meter: Field required"):
        parse_tariff(without_meter, "t.toml")


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TariffError, match=r"t\.toml: not valid TOML"):
        parse_tariff("tariff_id = ", "t.toml")
    with pytest.raises(TariffError, match="tariff file not found"):
        load_tariff(tmp_path / "none.toml")


def test_the_demo_tariff_loads() -> None:
    t = load_tariff(TARIFF_PATH)
    assert t.version and t.night is not None and t.night.surcharge_percent == 20
