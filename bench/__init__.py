"""Benchmarks: each module prints its figures and ratios side by side (`make bench`)."""
