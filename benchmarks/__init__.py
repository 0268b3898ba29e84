"""Benchmarks: ``make bench`` prints their tables. Figures, not pass/fail: targets are shown beside them."""
