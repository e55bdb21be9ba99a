"""Shared-taxi routing: the dial-a-ride problem (DARP).

``Problem`` (immutable) -> ``solve(problem, time_limit_s=..., seed=..., initial=...)`` -> ``Result``;
``insertion_options`` for instant quotes; ``reoptimise`` for the whole day; ``check`` verifies any
result independently. Only ``solver._ortools`` imports OR-Tools; only ``solver._lns_kernel`` numba
(``warm_up`` loads its compiled code ahead of the first solve).
"""

from solver.api import plan_of, precheck, reoptimise, solve
from solver.checker import Violation, check
from solver.insertion import InsertionOption, construct, insertion_options
from solver.lns import warm_up
from solver.problem import OPEN, Objective, Problem, Request, TimeWindow, Vehicle, ride_time_limit
from solver.result import Result, Route, Stop, StopKind, UnassignedReason

__all__ = [
    "OPEN",
    "InsertionOption",
    "Objective",
    "Problem",
    "Request",
    "Result",
    "Route",
    "Stop",
    "StopKind",
    "TimeWindow",
    "UnassignedReason",
    "Vehicle",
    "Violation",
    "check",
    "construct",
    "insertion_options",
    "plan_of",
    "precheck",
    "reoptimise",
    "ride_time_limit",
    "solve",
    "warm_up",
]
