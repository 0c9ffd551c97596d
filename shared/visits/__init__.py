"""The salon's visits as the scheduler last saw them, and what changed since: the original's booking monitor.

``state`` is one visit's snapshot, ``store`` keeps them in Redis, ``changes`` tells a change apart (moved,
cancelled, created; by the salon or by the receptionist) and ``own`` is how the receptionist says "this one
is mine"; ``hooks`` is YClients' webhook inbox. See docs/reminders.md.
"""
