"""CLI commands of this feature area (registered on import by cli/main.py)."""
