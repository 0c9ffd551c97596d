"""Sending the scheduler's reminders and notices, and reading a client's answer to a reminder."""
