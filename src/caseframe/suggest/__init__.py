"""Machine coding suggestions."""
