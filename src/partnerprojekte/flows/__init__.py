"""Prefect flows for the scheduled mail (docs/process.md, „Benachrichtigungen“) and their deployments.

Thin over the functions the command line calls too.

Importing this package is cheap: the catalogue of jobs (``catalog``) and the retry rule (``retry``) do not
import Prefect. The flow modules (``deliver``, ``reminders``, ``digest``, ``deployments``) do, so only the
code paths that run flows import them.
"""
