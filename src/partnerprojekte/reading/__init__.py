"""The read model: what the edges show (one proposal, lists, history, verify, the report as text)."""
