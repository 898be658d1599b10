"""Salvesti: self-hosted call recording for small businesses."""

__version__ = "0.1.0"
