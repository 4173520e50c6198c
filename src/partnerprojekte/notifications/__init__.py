"""Rendering and delivery of the outbox: German templates, MIME messages, SMTP and file transports.

This package knows nothing of the database (an import-linter contract keeps it so): ``delivery`` wires
the outbox rows to it. Importing the package is cheap; Jinja2 and aiosmtplib load with the modules
that need them.
"""
