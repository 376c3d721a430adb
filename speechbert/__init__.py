"""speechbert: ESPnet-style recipes for end-to-end spoken question answering."""

from pathlib import Path

__version__ = (Path(__file__).resolve().parent / "version.txt").read_text(encoding="utf-8").strip()
