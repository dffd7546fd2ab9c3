"""The catalog: every registered model as rows (records.py), searched by field and
metric (query.py), written as a static offline site (site.py, chart.py) or served
on 127.0.0.1 (serve.py).

Reads Architecture and Weights records and model cards, never weights, and
imports no torch.
"""

from __future__ import annotations
