"""Every feed parser answers any bytes with a result or our own error (a bounded run for CI; the long,
coverage-guided run is ``benchmarks/fuzz.py``). Inputs are random bytes and real seeds with bytes
flipped, inserted, deleted and spliced."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_targets import Target, one_input, targets

TARGETS = targets()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))

Edit = tuple[int, int, int, bytes]  # (kind, position, length, bytes)


def _apply(seed: bytes, edits: list[Edit]) -> bytes:
    b = bytearray(seed)
    for kind, pos, length, data in edits:
        i = pos % (len(b) + 1)
        if kind == 0 and b:  # flip bits
            b[min(i, len(b) - 1)] ^= data[0] if data else 0x55
        elif kind == 1:  # insert
            b[i:i] = data
        elif kind == 2:  # delete
            del b[i : i + length]
        else:  # copy a run of the input elsewhere (a repeated row, a doubled header)
            b[i:i] = b[(pos * 7) % (len(b) + 1) :][:length]
    return bytes(b)


def _inputs(target: Target) -> st.SearchStrategy[bytes]:
    edit = st.tuples(
        st.integers(0, 3), st.integers(0, 1 << 20), st.integers(1, 64), st.binary(min_size=1, max_size=8)
    )
    mutated = st.builds(_apply, st.sampled_from(target.seeds()), st.lists(edit, min_size=1, max_size=6))
    return st.one_of(st.binary(max_size=600), mutated, mutated)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_any_input_gives_a_result_or_our_own_error(name: str) -> None:
    target = TARGETS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_inputs(target))
    def run(data: bytes) -> None:
        one_input(target, data)  # raises only when the parser let a foreign exception out

    run()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_parses(name: str) -> None:
    """The seeds are real feeds: a target that refused its own seeds would fuzz nothing but refusals."""
    target = TARGETS[name]
    assert all(one_input(target, s) for s in target.seeds())
