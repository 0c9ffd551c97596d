"""Benchmarks: real processes, numbers written to bench/reports/. Tests never assert on timings."""
