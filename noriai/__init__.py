"""Noriai application: CLI, settings, web app composition, built-in demo data."""
