"""One reader per binary or structured file format; plain text is handled in readers.py."""
