"""atheris harness: fuzz.targets.booking (see fuzz/_harness.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz._harness import main  # noqa: E402

if __name__ == "__main__":
    main("booking")
