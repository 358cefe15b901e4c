"""The code blocks of ``docs/*.md``, by language and position."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def blocks(doc: str, language: str) -> list[str]:
    """Every ```language block of ``docs/<doc>``, in order."""
    text = (DOCS / doc).read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def sample(doc: str, language: str, index: int = 0) -> str:
    return blocks(doc, language)[index]
