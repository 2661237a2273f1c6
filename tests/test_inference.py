"""Running trained networks: the one cache of the network loaders (helpers.inference)."""


def test_a_network_file_is_loaded_once_until_it_is_written_again(tmp_path):
    import os

    from helpers.inference import load_once

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
