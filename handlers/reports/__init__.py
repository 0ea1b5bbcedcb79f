"""Reports for program leads: the catalogue of reports, one module per group of reports
(pairs, people), the SQL the two databases spell differently (sql) and k-anonymity for
per-row exports (anonymity)."""
