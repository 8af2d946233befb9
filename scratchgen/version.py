"""The library's version, read by the package, run folders and saved files."""
__version__ = "0.1.0"
