"""Running trained networks: the one cache of the network loaders (helpers.plumbing.inference)."""


def test_a_network_file_is_loaded_once_until_it_is_written_again(tmp_path):
    import os

    from helpers.plumbing.inference import load_once

    path = tmp_path / "net.bin"
    path.write_bytes(b"one")
    calls = []

    def build(p):
        calls.append(p.read_bytes())
        return object()

    first = load_once(path, build)
    assert load_once(path, build) is first and calls == [b"one"]
    path.write_bytes(b"three")  # written again (another size, a later time): read again
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load_once(path, build) is not first and calls == [b"one", b"three"]


def test_one_loader_for_every_network():
    """load_network: every kind from its shipped checkpoint, one return shape (model, config), shared
    and ready for inference by default, a private copy with fresh=True, and a file of another kind refused."""
    import pytest
    import torch

    from helpers.methods.baselines import HiNetStyle, Rehman
    from helpers.methods.blind_mode import BlindConfig
    from helpers.network.model import StegoINN
    from helpers.plumbing.inference import NETWORKS, load_network, shipped

    built = {"paper": StegoINN, "blind": StegoINN, "rehman": Rehman, "hinet": HiNetStyle}
    assert set(NETWORKS) == set(built)
    for kind, cls in built.items():
        net = load_network(kind=kind)
        model, config = net
        assert isinstance(model, cls) and not model.training and config is net.config
        assert load_network(shipped(kind), kind).model is model  # one cache
        w = next(p for p in model.parameters() if p.dim() == 4)
        assert w.is_contiguous(memory_format=torch.channels_last)  # prepared for inference
        mine = load_network(kind=kind, fresh=True).model
        assert mine is not model and next(p for p in mine.parameters() if p.dim() == 4).is_contiguous()
        assert all(torch.equal(a, b) for a, b in zip(mine.state_dict().values(), model.state_dict().values()))
    assert isinstance(load_network(kind="blind").config, BlindConfig)
    assert load_network(kind="paper").config["n_blocks"] == 8
    with pytest.raises(ValueError, match=r"paper\.pt is not a blind-mode checkpoint$"):
        load_network(shipped("paper"), "blind")  # the cache is per kind: the paper's network is not handed out
    with pytest.raises(ValueError, match="unknown kind of network 'srnet'"):
        load_network(kind="srnet")
