"""Latency benchmarks: the sweep engine, its executors and the results they produce."""
