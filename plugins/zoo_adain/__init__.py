"""Registration of the adain architecture (no torch imported here)."""
