"""The `caseframe` command line: thin commands over the Python API."""
