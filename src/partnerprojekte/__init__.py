"""Workflow-Engine für die Qualifizierung der Partnerprojekte der Ruhr-Konferenz."""

__version__ = "0.1.0"
