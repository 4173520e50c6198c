"""Prefect flows for the scheduled work (spec §7) and their deployments; thin over the CLI's functions.

Importing this package is cheap: the catalogue of jobs (``catalog``) and the retry rule (``retry``) do not
import Prefect. The flow modules (``deliver``, ``reminders``, ``digest``, ``deployments``) do, so only the
code paths that run flows import them.
"""
