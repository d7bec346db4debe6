"""NumPy reference layers (re-exports are added once the topic modules land)."""
