"""Data: photos as tensors and the bundled samples (notebook 01), the COCO / VOC subsets and their
downloads (notebook 04), the held-out real photos of blind mode's figures (notebook 09)."""
