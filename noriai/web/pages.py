"""Server-rendered pages of the dispatch service (Japanese UI, light JavaScript, no build step)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dispatch.service import DispatchService

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
KIND_JA = {
    "hospital": "病院",
    "station": "駅",
    "school": "学校",
    "shopping": "買い物",
    "onsen": "温泉",
    "sight": "観光",
    "office": "公共施設",
    "airport": "空港",
}


def pages_router(
    svc: DispatchService, *, days_ahead: int = 7, tile_url: str = "", tile_attribution: str = ""
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def _places() -> list[dict[str, object]]:
        return [
            {
                "place_id": p.place_id,
                "name": p.name,
                "name_en": p.name_en,
                "kind": p.kind.value,
                "kind_ja": KIND_JA.get(p.kind.value, p.kind.value),
                "lat": p.point.lat,
                "lon": p.point.lon,
            }
            for p in sorted(
                svc.places.values(), key=lambda p: (p.kind.value != "hospital", p.kind.value, p.kana)
            )
            if p.active  # retired places stay only for the bookings that name them
        ]

    @router.get("/operator", response_class=HTMLResponse)
    def operator_console(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request,
            "operator.html",
            {
                "role": "operator",
                "places": _places(),
                "today": svc.now().date().isoformat(),
                "tomorrow": (svc.now().date() + timedelta(days=1)).isoformat(),
                "days_ahead": days_ahead,
                "tile_url": tile_url,
                "tile_attribution": tile_attribution,
            },
        )

    @router.get("/company", response_class=HTMLResponse)
    def company_view(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request,
            "company.html",
            {
                "role": "company",
                "today": svc.now().date().isoformat(),
                "places": _places(),
                "tile_url": tile_url,
                "tile_attribution": tile_attribution,
            },
        )

    return router
