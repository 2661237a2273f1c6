"""Plumbing every method shares: atomic files and weights-only checkpoints, reading and writing
images, running a trained network (notebook 06)."""
