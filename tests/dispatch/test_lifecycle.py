"""The booking state machine, recurrence rules and the migrations, without a server."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import SQLModel

from dispatch.booking import (
    FINAL_STATES,
    TRANSITIONS,
    BookingEvent,
    BookingStatus,
    RecurrenceRule,
    TransitionError,
    hhmm,
    next_status,
    parse_hhmm,
)
from dispatch.persistence import create_db_engine, migrate, store_reference_data
from dispatch.persistence.db import alembic_config
from noriai.demo import reference_data
from tests.conftest import PostgresServer


@given(st.lists(st.sampled_from(list(BookingEvent)), max_size=12))
def test_any_event_sequence_stays_on_the_lifecycle(events: list[BookingEvent]) -> None:
    state = BookingStatus.QUOTED
    history = [state]
    for ev in events:
        try:
            new = next_status(state, ev)
        except TransitionError as exc:
            assert (state, ev) not in TRANSITIONS and state.value in str(exc)
            continue
        assert state not in FINAL_STATES, "final states never change"
        state = new
        history.append(state)
    if BookingStatus.DROPPED_OFF in history:
        assert history.index(BookingStatus.PICKED_UP) < history.index(BookingStatus.DROPPED_OFF)
    if BookingStatus.PICKED_UP in history:
        assert BookingStatus.CONFIRMED in history and BookingStatus.SCHEDULED in history
    assert not ({BookingStatus.NO_SHOW, BookingStatus.PICKED_UP} <= set(history))


def test_every_state_has_a_japanese_label_and_reaches_a_final_state() -> None:
    for s in BookingStatus:
        assert s.label_ja
        seen, frontier = {s}, [s]
        while frontier:
            cur = frontier.pop()
            for (a, _e), b in TRANSITIONS.items():
                if a is cur and b not in seen:
                    seen.add(b)
                    frontier.append(b)
        assert seen & FINAL_STATES


@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.sets(st.integers(0, 6), min_size=1))
def test_recurrence_matches_weekday_and_never_a_holiday(day: date, weekdays: set[int]) -> None:
    import jpholiday

    rule = RecurrenceRule(frozenset(weekdays), date(2026, 1, 1))
    assert rule.occurs_on(day) == (day.weekday() in weekdays and not jpholiday.is_holiday(day))
    assert not RecurrenceRule(frozenset(weekdays), day + timedelta(days=1)).occurs_on(day)
    assert not RecurrenceRule(frozenset(weekdays), date(2026, 1, 1), exceptions=frozenset({day})).occurs_on(
        day
    )


def test_recurrence_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RecurrenceRule(frozenset(), date(2026, 1, 1))
    with pytest.raises(ValueError):
        RecurrenceRule(frozenset({7}), date(2026, 1, 1))
    with pytest.raises(ValueError):
        RecurrenceRule(frozenset({1}), date(2026, 2, 1), date(2026, 1, 1))


@given(st.integers(0, 47), st.integers(0, 59))
def test_clock_text_round_trips(h: int, m: int) -> None:
    assert parse_hhmm(hhmm(h * 3600 + m * 60)) == h * 3600 + m * 60


@pytest.mark.parametrize("bad", ["", "9", "9:60", "48:00", "ab:cd", "-1:00"])
def test_bad_clock_text_names_the_input(bad: str) -> None:
    with pytest.raises(ValueError, match="expected a time"):
        parse_hhmm(bad)


def _diffs(url: str) -> list[object]:
    engine = create_db_engine(url)
    migrate(engine)
    migrate(engine)  # a second start finds the schema current
    with engine.connect() as c:
        return list(compare_metadata(MigrationContext.configure(c), SQLModel.metadata))


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    assert _diffs(f"sqlite:///{tmp_path / 'm.db'}") == []


def test_migrations_match_the_models_on_postgresql(postgres_server: PostgresServer) -> None:
    assert _diffs(postgres_server.new_database("migrations")) == []


def test_a_first_release_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """A database made by the first release (create_all, no alembic) keeps its data."""
    from alembic import command

    db = tmp_path / "old.db"
    engine = create_db_engine(f"sqlite:///{db}")
    cfg = alembic_config(engine)
    with engine.begin() as conn:  # the reference tables exactly as the first release made them
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    con = sqlite3.connect(db)
    con.execute("drop table alembic_version")
    con.execute(
        "insert into rider values ('R1', 'n', 'k', '083-000-0001', 34.1, 131.4, 'd', 1950, 0, 0, 0, 0, 0, 0)"
    )
    con.commit()
    migrate(engine)
    assert con.execute("select count(*) from rider").fetchone() == (1,)
    assert con.execute("select source from rider").fetchone() == ("operator",)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert con.execute("select version_num from alembic_version").fetchone() == (head,)
    assert con.execute("select count(*) from booking").fetchone() == (0,)
    assert store_reference_data(engine, reference_data()) is False  # riders exist: nothing imported
