"""Structured (JSON) logs with riders' personal data kept out.

The code logs ids, never names, phones, addresses or destinations. Two guards catch what slips through:
every message is scrubbed of phone numbers and of anything after ``?`` in a logged URL (search boxes
put names and phone numbers in query strings), and extra fields with personal-data names are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

PHONE = re.compile(r"(?<!\d)(?:\+81[- ]?|0)\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4}(?!\d)")
QUERY = re.compile(r"(\?)[^\s\"']*")
PII_FIELDS = frozenset(
    {
        "name",
        "kana",
        "phone",
        "address",
        "home",
        "destination",
        "origin",
        "rider_name",
        "rider_phone",
        "lat",
        "lon",
    }
)
MASK = "***"
_STD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def scrub(text: str) -> str:
    return PHONE.sub(MASK, QUERY.sub(r"\1" + MASK, text))


class PiiFilter(logging.Filter):
    """Renders the message, scrubs it, and masks personal-data extra fields on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not take the request down
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        for key in list(vars(record)):
            if key in PII_FIELDS and key not in _STD:
                setattr(record, key, MASK)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            out["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Root and uvicorn loggers through one scrubbing handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PiiFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
