"""People: the directory (CSV import, finding someone), profiles and shared lookups, and a
person's data rights (my data, forget me, retention)."""
