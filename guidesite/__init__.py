"""guidesite: a static generator for multilingual health guidance."""

__version__ = "0.1.0"
