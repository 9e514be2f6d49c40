"""Frozen monthly reports: versions, the scheduler that makes them, and their exports."""
