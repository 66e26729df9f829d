"""Helpers for bench/run.py: processes, a RESP client, workloads, memory load and the report."""
