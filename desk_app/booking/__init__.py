"""booking (see docs/architecture.md)."""
