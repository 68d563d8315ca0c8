"""faces (see docs/architecture.md)."""
