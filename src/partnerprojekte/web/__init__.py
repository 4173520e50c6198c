"""The web application: HTTP API and German pages over the same services as the command line."""
