"""Values from the browser, checked before a service sees them: a crafted request can send
any JSON where a select sends text."""

from __future__ import annotations


def text_choice(value, name: str) -> str | None:
    """A select's text value, or None when nothing is chosen; anything else is refused
    (``ValueError``: the request answers 400)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value
