"""How the project's tasks and pages put things in words: an error in one line, a count with its noun.
Plain Python, so a DAG's task and the pump monitor share it without importing each other's libraries."""

from __future__ import annotations

import re


def first_line(error: BaseException) -> str:
    """An error's first line, without the terminal colour codes deltalake's messages carry."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 day", "2 days"; `many` for a word whose plural is not word + s ("micro-batches")."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"
