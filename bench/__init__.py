"""Benchmarks; run them as scripts (see bench/engine.py)."""
