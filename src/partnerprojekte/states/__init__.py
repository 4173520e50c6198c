"""Core: the transition table, the one shared machine, and the workflow that refuses with reasons."""
