"""Rollup tables: set-based SQL builders and the jobs that keep them fresh."""
