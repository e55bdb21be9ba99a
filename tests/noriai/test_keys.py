"""The API-key lifecycle command: rotation keeps the old key for its grace period only, revocation ends
keys at once, and listings never show a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatch.domain import Principal
from dispatch.persistence import create_db_engine, migrate, store_reference_data
from dispatch.persistence.repository import Repository
from noriai.cli import app
from noriai.demo import reference_data

runner = CliRunner()


def test_rotate_then_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    store_reference_data(engine, reference_data())
    repo = Repository(engine)
    with repo.write() as tx:
        tx.add_key("old-secret-key", Principal("company", "chuo-taxi", "chuo-taxi"), datetime.now(UTC))
    monkeypatch.setenv("DATABASE_URL", url)

    rotated = runner.invoke(app, ["keys", "rotate", "chuo-taxi", "--grace-hours", "1"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip().splitlines()[0]
    assert len(new) >= 40
    with repo.read() as tx:
        assert tx.principal_for_key(new) == Principal("company", "chuo-taxi", "chuo-taxi")
        assert tx.principal_for_key("old-secret-key") is not None  # within the grace hour
        later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
        assert tx.principal_for_key("old-secret-key", later) is None
        assert tx.principal_for_key(new, later) is not None

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and "chuo-taxi" in listed.stdout
    assert new not in listed.stdout and "old-secret-key" not in listed.stdout

    revoked = runner.invoke(app, ["keys", "revoke", "chuo-taxi"])
    assert revoked.exit_code == 0, revoked.output
    with repo.read() as tx:
        assert tx.principal_for_key(new) is None and tx.principal_for_key("old-secret-key") is None
    again = runner.invoke(app, ["keys", "rotate", "chuo-taxi"])
    assert again.exit_code == 2 and "no live key" in again.output
