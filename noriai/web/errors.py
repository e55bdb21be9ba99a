"""Sentences for the error bodies that ``noriai.web.guard`` answers (``ErrorOut``):

``{"error": code, "message": English, "message_ja": Japanese, "detail": ..., "fields": [...]}``

``fields`` (request validation only) names each bad field with its own code and both sentences, so a
page can put the message next to the field in the page's language (pages never show raw JSON).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Field names as people know them (the last part of the pydantic location).
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "companions": ("同乗者の人数", "the number of companions"),
    "time": ("時刻", "the time"),
    "time_s": ("時刻", "the time"),
    "return_time": ("帰りの時刻", "the return time"),
    "service_date": ("日付", "the date"),
    "date": ("日付", "the date"),
    "start_date": ("開始日", "the start date"),
    "end_date": ("終了日", "the end date"),
    "exceptions": ("運休日", "the days off"),
    "weekdays": ("曜日", "the weekdays"),
    "name": ("氏名", "the name"),
    "kana": ("ふりがな", "the kana reading"),
    "phone": ("電話番号", "the phone number"),
    "birth_year": ("生まれ年", "the birth year"),
    "district": ("地区", "the district"),
    "address": ("住所", "the address"),
    "home": ("自宅の場所", "the home location"),
    "lat": ("緯度", "the latitude"),
    "lon": ("経度", "the longitude"),
    "seats": ("人数", "the number of seats"),
    "rider_id": ("利用者", "the rider"),
    "destination": ("行き先", "the destination"),
    "origin": ("出発地", "the origin"),
    "mode": ("時刻の指定", "the time mode"),
    "option": ("選んだ便", "the chosen option"),
    "reason": ("理由", "the reason"),
    "event": ("報告", "the event"),
    "q": ("検索語", "the search text"),
    "consent_given_on": ("同意日", "the consent date"),
}


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header") and not isinstance(p, int)]
    return parts[-1] if parts else ""


def _sentences(err: Mapping[str, Any]) -> tuple[str, str, str]:
    """(code, Japanese, English) for one pydantic error."""
    field = _field(err.get("loc", ()))
    ja_name, en_name = FIELD_NAMES.get(field, (field or "入力", field or "the input"))
    kind = str(err.get("type", "invalid"))
    ctx = err.get("ctx") or {}
    if kind == "string_pattern_mismatch" and field in ("time", "return_time"):
        kind = "value_error"
    if kind == "string_pattern_mismatch" and "date" in field:
        kind = "date_parsing"
    if kind == "missing":
        return "missing", f"{ja_name}を入力してください。", f"Please give {en_name}."
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        word_ja = "以上" if kind == "greater_than_equal" else "より大きい値"
        word_en = "at least" if kind == "greater_than_equal" else "more than"
        return (
            "too_small",
            f"{ja_name}は{limit}{word_ja}にしてください。",
            f"{en_name.capitalize()} must be {word_en} {limit}.",
        )
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        word_ja = "以下" if kind == "less_than_equal" else "未満"
        word_en = "at most" if kind == "less_than_equal" else "less than"
        return (
            "too_large",
            f"{ja_name}は{limit}{word_ja}にしてください。",
            f"{en_name.capitalize()} must be {word_en} {limit}.",
        )
    if kind in ("int_parsing", "int_type", "int_from_float", "float_parsing", "float_type"):
        return (
            "not_a_number",
            f"{ja_name}は数字で入力してください。",
            f"{en_name.capitalize()} must be a number.",
        )
    if kind.startswith("date") or kind.startswith("datetime"):
        return (
            "bad_date",
            f"{ja_name}を正しい日付（例: 2026-11-24）で入力してください。",
            f"{en_name.capitalize()} must be a date such as 2026-11-24.",
        )
    if kind in ("string_too_short", "too_short"):
        return "too_short", f"{ja_name}を入力してください。", f"{en_name.capitalize()} is too short."
    if kind in ("string_too_long", "too_long"):
        return "too_long", f"{ja_name}が長すぎます。", f"{en_name.capitalize()} is too long."
    if kind == "extra_forbidden":
        return (
            "unknown_field",
            f"「{field}」という項目は受け付けていません。",
            f"'{field}' is not a field of this request.",
        )
    if kind in ("literal_error", "enum"):
        return (
            "not_allowed",
            f"{ja_name}の値が選べる値ではありません。",
            f"{en_name.capitalize()} is not one of the allowed values.",
        )
    if kind == "json_invalid":
        return "bad_json", "送信された内容を読み取れませんでした。", "The request body is not valid JSON."
    if kind == "value_error":
        msg = str(ctx.get("error", err.get("msg", "")))
        if field in ("time", "return_time"):
            return (
                "bad_time",
                f"{ja_name}は「時:分」（例: 9:30）で入力してください。",
                f"{en_name.capitalize()} must be HH:MM, e.g. 9:30.",
            )
        if "date" in field:
            return (
                "bad_date",
                f"{ja_name}を正しい日付（例: 2026-11-24）で入力してください。",
                f"{en_name.capitalize()} must be a date such as 2026-11-24.",
            )
        if field == "phone":
            return (
                "bad_phone",
                "電話番号を正しく入力してください（例: 083-000-1234 または +44 7700 900123）。",
                "Please give a valid phone number (e.g. 083-000-1234 or +44 7700 900123).",
            )
        return (
            "invalid_value",
            f"{ja_name}が正しくありません。",
            f"{en_name.capitalize()} is not valid: {msg}",
        )
    if kind.startswith("bool"):
        return (
            "not_a_boolean",
            f"{ja_name}は「はい」か「いいえ」で指定してください。",
            f"{en_name.capitalize()} must be true or false.",
        )
    return "invalid_value", f"{ja_name}が正しくありません。", f"{en_name.capitalize()} is not valid."


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each bad field of a request validation error with its own code and both sentences."""
    out = []
    for err in list(errors)[:10]:
        code, ja, en = _sentences(err)
        out.append({"field": _field(err.get("loc", ())), "code": code, "message": en, "message_ja": ja})
    return out


STATUS_SENTENCES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "The request is not valid.", "リクエストが正しくありません。"),
    401: ("unauthorized", "An API key is needed.", "APIキーが必要です。"),
    403: ("forbidden", "This key may not do that.", "このキーでは実行できません。"),
    404: ("not_found", "Not found.", "見つかりません。"),
    405: ("method_not_allowed", "This method is not allowed here.", "この操作はできません。"),
    409: ("conflict", "This conflicts with the current state.", "現在の状態と矛盾するため実行できません。"),
    413: ("too_large", "The request is too large.", "リクエストが大きすぎます。"),
    429: (
        "too_many_requests",
        "Too many requests; try again shortly.",
        "リクエストが多すぎます。少し待ってからお試しください。",
    ),
}


def http_error_body(status: int, detail: Any) -> dict[str, Any]:
    """An HTTPException as our shape; ``detail`` may already be ``{"error", "message", "message_ja"}``."""
    if isinstance(detail, Mapping) and "error" in detail:
        en = str(detail.get("message", ""))
        return {
            "error": str(detail["error"]),
            "message": en,
            "message_ja": str(detail.get("message_ja") or en),
        }
    code, en, ja = STATUS_SENTENCES.get(
        status, ("error", "The request failed.", "リクエストを処理できませんでした。")
    )
    if isinstance(detail, str) and detail and detail not in ("Not Found", "Method Not Allowed"):
        en = detail
    return {"error": code, "message": en, "message_ja": ja}
