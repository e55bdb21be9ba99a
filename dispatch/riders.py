"""Registering and editing riders: the operator's form for a first-time caller, and later changes of
address, needs, passes and consent. Kana are stored as hiragana so a search in katakana finds them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from dispatch.domain import Consent, MobilityNeeds, Rider
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.persistence.repository import Repository
from geo import LatLon, ServiceZone, zone_for

_KANA = re.compile(r"^[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb\u3000 ]+$")
_JP_PHONE = re.compile(r"^0\d{9,10}$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def to_hiragana(text: str) -> str:
    """Katakana (ァ..ヶ) as hiragana; everything else unchanged."""
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def phone_digits(phone: str) -> str:
    """The digits of a phone number, with a leading + kept (E.164)."""
    s = phone.strip()
    return ("+" if s.startswith("+") else "") + "".join(ch for ch in s if ch.isdigit())


def valid_phone(phone: str) -> bool:
    """A Japanese number (0 and 9-10 more digits, hyphens or spaces allowed) or E.164 (+44 7700 900123)."""
    if re.search(r"[^\d\s\-+()]", phone):
        return False
    d = phone_digits(phone)
    return bool(_JP_PHONE.match(d) or _E164.match(d))


def guest_phone(phone: str) -> str:
    """The digits of a guest's phone ("0830001234", or from abroad "+447700900123"), else Invalid."""
    if not valid_phone(phone):
        raise Invalid(
            "phone must be a Japanese number of 10 or 11 digits or an international one (+44 7700 900123)",
            "電話番号（10〜11桁、海外の番号は +国番号から）を入力してください",
            code="bad_phone",
        )
    return phone_digits(phone)


class RiderFieldError(Invalid):
    """A form field the operator must correct; ``field`` names it so the page can show the message there."""

    def __init__(self, field: str, code: str, message_en: str, message_ja: str) -> None:
        super().__init__(message_en, message_ja, code=code)
        self.field = field


@dataclass(frozen=True, slots=True)
class RiderForm:
    name: str
    kana: str
    phone: str
    home: LatLon
    birth_year: int
    district: str = ""
    needs: MobilityNeeds = field(default_factory=MobilityNeeds)
    disability_certificate: bool = False
    welfare_bus_pass: bool = False
    consent_data_reuse: bool = False
    consent_given_on: date | None = None
    address: str = ""


class RiderRegistry:
    def __init__(self, repo: Repository, zones: Sequence[ServiceZone], clock: Callable[[], datetime]) -> None:
        self.repo, self.zones, self.clock = repo, list(zones), clock

    def _rider(self, rider_id: str, f: RiderForm) -> Rider:
        name = " ".join(f.name.split())
        kana = to_hiragana(" ".join(f.kana.replace("\u3000", " ").split()))
        if not name:
            raise RiderFieldError("name", "missing", "Please give the name.", "氏名を入力してください。")
        if not kana or not _KANA.match(kana):
            raise RiderFieldError(
                "kana",
                "bad_kana",
                "Please give the reading of the name in kana.",
                "ふりがなをひらがなかカタカナで入力してください。",
            )
        if not valid_phone(f.phone):
            raise RiderFieldError(
                "phone",
                "bad_phone",
                "Please give a valid phone number (e.g. 083-000-1234 or +44 7700 900123).",
                "電話番号を正しく入力してください（例: 083-000-1234）。",
            )
        this_year = self.clock().year
        if not 1900 <= f.birth_year <= this_year:
            raise RiderFieldError(
                "birth_year",
                "bad_birth_year",
                f"The birth year must be between 1900 and {this_year}.",
                f"生まれ年は1900〜{this_year}年で入力してください。",
            )
        zone = zone_for(f.home, self.zones)
        if zone is None:
            raise RiderFieldError(
                "home",
                "outside_area",
                "That home is outside the service area.",
                "自宅の場所が運行区域の外です。",
            )
        given_on = (f.consent_given_on or self.clock().date()) if f.consent_data_reuse else None
        if given_on is not None and given_on > self.clock().date():
            raise RiderFieldError(
                "consent_given_on",
                "future_date",
                "The consent date cannot be in the future.",
                "同意日に未来の日付は指定できません。",
            )
        return Rider(
            rider_id=rider_id,
            name=name,
            kana=kana,
            phone=f.phone.strip(),
            home=f.home,
            district=f.district.strip() or zone.name,
            birth_year=f.birth_year,
            needs=f.needs,
            disability_certificate=f.disability_certificate,
            welfare_bus_pass=f.welfare_bus_pass,
            consent=Consent(f.consent_data_reuse, given_on),
            address=" ".join(f.address.split()),
        )

    def register(self, f: RiderForm) -> Rider:
        rider = self._rider(f"R{uuid.uuid4().hex[:8].upper()}", f)
        with self.repo.write() as tx:
            same = tx.rider_by_phone(phone_digits(rider.phone).lstrip("+"))
            if same is not None:
                raise RiderFieldError(
                    "phone",
                    "phone_taken",
                    f"This phone number is already registered (rider {same.rider_id}).",
                    f"この電話番号は登録済みです（{same.name} 様、{same.rider_id}）。",
                )
            tx.add_rider(rider)
        return rider

    def update(self, rider_id: str, f: RiderForm) -> Rider:
        with self.repo.write() as tx:
            old = tx.rider(rider_id)
            if old is None:
                raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")
            rider = self._rider(rider_id, f)
            if old.consent.data_reuse and rider.consent.data_reuse and f.consent_given_on is None:
                rider = replace(rider, consent=old.consent)  # consent still dates from when it was given
            same = tx.rider_by_phone(phone_digits(rider.phone).lstrip("+"))
            if same is not None and same.rider_id != rider_id:
                raise Conflict(
                    f"this phone number belongs to rider {same.rider_id}",
                    f"この電話番号は別の利用者（{same.rider_id}）で登録されています",
                    code="phone_taken",
                )
            tx.update_rider(rider)
        return rider
