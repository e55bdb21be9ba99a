"""bus_location package."""
