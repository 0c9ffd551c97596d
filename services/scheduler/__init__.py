"""The scheduler: finds due reminders and the salon's changes to visits, and queues one job per message."""
