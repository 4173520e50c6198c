"""The mail pipeline: delivering the outbox, reminders and weekly digests.

Here the database and the notifications meet (they do not know each other); the Prefect flows and the
command line call these modules on a schedule or by hand.
"""
