"""Errors raised by the map renderers."""

from __future__ import annotations

__all__ = ["MapError", "UnknownTilesError", "UnsupportedLanguageError"]


class MapError(ValueError):
    """Base class: a map cannot be rendered with the arguments given."""


class UnsupportedLanguageError(MapError):
    """The requested page language has no translation."""


class UnknownTilesError(MapError):
    """The requested background tiles are not one of the supported choices."""
