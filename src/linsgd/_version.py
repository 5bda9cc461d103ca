"""The version of linsgd (one place; the model file records it)."""

__version__ = "0.1.0"
