"""Property-based tests: random and malformed input at every entry point (issue 9, item 4)."""
