"""Mentoring sessions: logging one (log, records), structured feedback after it and at the
cycle's checkpoints (feedback), and optional summaries of notes (summaries)."""
