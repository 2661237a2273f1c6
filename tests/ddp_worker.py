"""Run by tests/test_train.py under torchrun: train (``train()`` itself starts and ends the gloo
process group, as ``torchrun -m helpers train`` does), then save this rank's weights."""

import os
import sys

import torch
import torch.distributed as dist

from helpers.training.train import TrainConfig, train

if __name__ == "__main__":
    data, out = sys.argv[1], sys.argv[2]
    assert not dist.is_initialized()
    cfg = TrainConfig(data=data, out=out, epochs=2, batch_size=2, crop=32, n_blocks=2, growth=8,
                      last_init="default", lr=1e-4, max_steps_per_epoch=3, limit_images=16)
    result = train(cfg, resume=False, progress=False)
    assert not dist.is_initialized(), "train() ends the process group it started"
    torch.save(result["model"].state_dict(), f"{out}/rank{os.environ['RANK']}.pt")
