"""What ``noriai city check``, ``noriai city import`` and ``noriai keys create`` do, without the CLI."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dispatch.domain import Principal
from dispatch.persistence import ImportReport, create_db_engine, import_city, migrate
from dispatch.persistence.repository import Repository
from noriai.city.bundle import CityBundle, load_bundle
from noriai.city.issues import Issues

ROLES = ("operator", "company")


class CityCommandError(ValueError):
    """A clear, expected failure; the CLI prints it and exits with status 2."""


def check(root: str | Path, *, feeds: bool = True) -> tuple[CityBundle | None, Issues]:
    return load_bundle(root, check_feeds=feeds)


def import_bundle(bundle: CityBundle, database_url: str) -> ImportReport:
    """Migrate the database, then load or update the city in one transaction (``ImportRefused``
    when it would drop a vehicle active bookings still ride in: nothing is written then)."""
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        return import_city(engine, bundle.reference, bundle_path=str(bundle.root), now=datetime.now(UTC))
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str
    role: str
    label: str
    company_id: str | None


def create_key(database_url: str, role: str, company_id: str | None, label: str | None) -> NewKey:
    """A new random API key, stored only as its SHA-256 digest; the caller shows it once."""
    if role not in ROLES:
        raise CityCommandError(f"--role must be operator or company, not {role!r}")
    if role == "company" and not company_id:
        raise CityCommandError("a company key needs --company ID")
    if role == "operator" and company_id:
        raise CityCommandError("an operator key sees every company: leave out --company")
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        repo = Repository(engine)
        if company_id is not None:
            from dispatch.persistence.reference import load_reference_data

            known = {c.company_id for c in load_reference_data(engine).companies}
            if company_id not in known:
                raise CityCommandError(
                    f"unknown company {company_id!r}; imported: {', '.join(sorted(known)) or 'none'}"
                )
        key = f"nk_{secrets.token_urlsafe(24)}"
        name = label or (f"{role}:{company_id}" if company_id else f"{role}:{datetime.now(UTC):%Y%m%d%H%M%S}")
        with repo.write() as tx:
            tx.add_key(key, Principal(role, name, company_id), datetime.now(UTC))
        return NewKey(key, role, name, company_id)
    finally:
        engine.dispose()
