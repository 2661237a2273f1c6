"""Evaluation and steganalysis: metrics (notebooks 02, 03), the harness and the paper's tables
(notebook 07), statistical and learned detectors (notebook 08), where the message lives (notebook 09)."""
