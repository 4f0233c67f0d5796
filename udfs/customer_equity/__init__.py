"""Customer equity for Excel: the discounted lifetime value of all of a firm's customers."""

__version__ = "0.1.0"
