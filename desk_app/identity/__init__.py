"""identity (see docs/architecture.md)."""
