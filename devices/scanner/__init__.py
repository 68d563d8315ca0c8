"""Keyboard-wedge handheld scanners (pure logic; ``devices.scanner.qt`` for the Qt adapter)."""

from devices.scanner.wedge import Rejected, Scanned, Typed, WedgeDecoder, WedgeEvent, WedgeScanner

__all__ = ["Rejected", "Scanned", "Typed", "WedgeDecoder", "WedgeEvent", "WedgeScanner"]
