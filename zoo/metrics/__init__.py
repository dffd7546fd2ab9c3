"""Metrics of the zoo's generators: FID/KID with a feature extractor trained here, and the
2D mode-collapse benchmarks of PacGAN/VEEGAN. Imports torch."""
