"""Rule-based understanding of Russian and English salon talk: services, staff, dates, times, intents."""
