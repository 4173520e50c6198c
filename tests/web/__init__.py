"""Tests of the web application: API, security, pages."""
