"""Trip planner: RAPTOR over the timetable index, plus walking, bike share and the shared taxi."""
