"""Stand-ins for the third-party services the project talks to, served over real HTTP."""
