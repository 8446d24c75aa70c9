"""Retention: schedules per record series, and later holds and disposition. Imports archive/."""
