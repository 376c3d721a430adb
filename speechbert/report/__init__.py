"""The error-analysis page: one static HTML file per test set (doc/report.md)."""
