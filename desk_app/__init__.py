"""Real-name check-in desk for hospital registration windows.

The core of this package (everything but ``app`` and ``cli``) is plain Python:
it never imports Qt, ``ui``, ``devices`` or ``sync``.
"""

__version__ = "0.1.0"
