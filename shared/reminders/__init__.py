"""Reminders and notices to clients about their visits: what is due when, each message's identity, the
reminder a reply may confirm, and the calendar link. Used by the scheduler (planning), the worker (sending,
confirming, the link) and the api (the link's ``.ics``). See docs/reminders.md.
"""
