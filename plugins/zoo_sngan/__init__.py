"""Registration of the sngan architecture (no torch imported here)."""
