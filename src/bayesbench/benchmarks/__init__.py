"""benchmarks layer (see docs/architecture.md)."""
