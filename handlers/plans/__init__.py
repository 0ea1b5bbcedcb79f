"""The start of a pairing: the introduction, the 90-day plan and its versions."""
