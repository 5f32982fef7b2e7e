"""scoring layer (see docs/architecture.md)."""
