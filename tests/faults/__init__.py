"""Faults survived: real processes, real aiosmtpd, real PostgreSQL, each test bounded in time."""
