"""Registration of the dcgan architecture (no torch imported here)."""
