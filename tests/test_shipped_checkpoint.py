"""The checkpoint shipped in data/checkpoints/ loads safely, is small, and works."""

import torch

from helpers.data.photos import DATA_DIR, ImageFolder, SAMPLES_DIR
from helpers.training.train import evaluate, load_checkpoint
from helpers.plumbing.inference import load_network

SHIPPED = DATA_DIR / "checkpoints" / "paper.pt"


def test_shipped_checkpoint_is_small_safe_and_documented():
    assert SHIPPED.is_file(), "the shipped checkpoint is missing"
    assert SHIPPED.stat().st_size <= 10 * 2 ** 20
    state = torch.load(SHIPPED, weights_only=True)  # no pickled code
    assert state["model_config"]["n_blocks"] == 8 and "optimizer" not in state
    assert "trained" in load_checkpoint(SHIPPED)["notes"]
    assert (DATA_DIR / "checkpoints" / "README.md").is_file()


def test_shipped_checkpoint_hides_and_recovers_losslessly():
    model = load_network(SHIPPED, fresh=True).model
    images = ImageFolder(SAMPLES_DIR, size=128, files=["coffee_128x128_0.png", "ihc_128x128_2.png"])
    metrics = evaluate(model, images, bpp=3, mapping=True)
    assert metrics["ra"] == [1.0, 1.0]
    # Measured with this file: 41.3-42.2 dB, 79-81 % of the 8-bit values changed (data/checkpoints/
    # README.md). Random weights give ~9 dB; a network that leaves the cover alone (identity: RA 100 %,
    # PSNR inf) must fail too, so the bound is two-sided and the stego must really differ.
    assert all(38 < p < 46 for p in metrics["psnr"]), metrics["psnr"]
    assert all(c > 0.5 for c in metrics["changed"]), metrics["changed"]
