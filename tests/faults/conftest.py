"""Shared pieces of the fault tests (each module brings its own servers and processes)."""
