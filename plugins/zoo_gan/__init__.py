"""Registration of the gan architecture (no torch imported here)."""
