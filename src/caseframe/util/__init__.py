"""Small helpers shared by the core (file reading, value parsing)."""
