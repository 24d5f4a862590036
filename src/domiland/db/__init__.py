"""Domiland integration hub."""
