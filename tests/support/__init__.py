"""Test harness: a private redis-server and the three services as real processes."""
