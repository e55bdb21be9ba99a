"""fares package."""
