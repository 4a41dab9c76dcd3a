"""samvag: multilingual citizen-guidance bot for Swedish municipalities."""

__version__ = "0.1.0"
