"""Payload and coding: Algorithms 1 and 2 (notebook 03), bytes <-> bits, layout, capacity and the
frame (notebooks 03, 06), and blind mode's Reed-Solomon coding layer (notebook 09)."""
