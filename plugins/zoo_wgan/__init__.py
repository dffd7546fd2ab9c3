"""Registration of the wgan architecture (no torch imported here)."""
