"""The main window frame: screens are plugged in by the composition root."""
