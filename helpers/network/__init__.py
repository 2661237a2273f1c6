"""The network: the affine coupling block (notebook 01), the dense block and StegoINN (notebook 02)."""
