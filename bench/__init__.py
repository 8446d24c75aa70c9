"""Benchmarks: luutru against a baseline run side by side (`make bench`)."""
