"""Files made by an earlier version still reveal, and the key file's format is frozen.

The fixtures in ``tests/fixtures/compat/`` (see its README) were made once, before the
``helpers/`` redesign, and are never regenerated. The key-file checks here run no network, so
the mutation run of ``tools/mutation.py`` can use them.
"""

import io
from pathlib import Path

import numpy as np
import pytest

from helpers.__main__ import main
from helpers.methods.key_mode import KEY_VERSION, Key, KeyFileError

FIX = Path(__file__).parent / "fixtures" / "compat"
KEY_ARRAYS = {  # name: (dtype, shape) of every array in a version 1 key file of a 64 x 64 cover
    "format": ("<U13", ()), "version": ("int64", ()), "z": ("float32", (3, 64, 64)), "turn": ("bool", ()),
    "bpp": ("int64", ()), "size": ("int64", (2,)), "tile": ("int64", ()), "model_fingerprint": ("<U16", ()),
    "thumbnail": ("uint8", (16, 16, 3)), "corrections": ("int64", (0,)),
}


def _arrays(source) -> dict:
    with np.load(source, allow_pickle=False) as a:
        return {k: a[k] for k in a.files}


def _reveals_exactly(tmp_path, stego: str, message: str, *options: str, wrong: tuple = ()) -> None:
    """``reveal`` of the fixture ``stego`` (with ``options``) writes exactly the fixture ``message``;
    with the ``wrong`` options instead it fails (exit 1) and never gives other bytes."""
    args = ["reveal", str(FIX / stego), "--out", str(tmp_path / "m.bin")]
    assert main(args + list(options)) == 0
    assert (tmp_path / "m.bin").read_bytes() == (FIX / message).read_bytes()
    if wrong:
        assert main(args + list(wrong) + ["--force"]) == 1


def test_key_mode_files_of_the_earlier_version_reveal_byte_exact(tmp_path, capsys):
    _reveals_exactly(tmp_path, "key_stego.png", "key_message.bin", "--key", str(FIX / "key.npz"))


def test_blind_files_of_the_earlier_version_reveal_byte_exact(tmp_path, capsys):
    _reveals_exactly(tmp_path, "blind_stego.png", "blind_message.bin", "--mode", "blind", "--password", "compat fixture",
                     wrong=("--mode", "blind", "--password", "another"))  # never wrong bytes


def test_a_key_mode_file_of_two_tiles_reveals_byte_exact(tmp_path, capsys):
    """300 x 80: the cover runs in two tiles (the second 44 pixels wide), each with its part of z."""
    assert _arrays(FIX / "key_tiles.npz")["z"].shape == (3, 80, 300)
    _reveals_exactly(tmp_path, "key_tiles_stego.png", "key_tiles_message.bin", "--key", str(FIX / "key_tiles.npz"))


def test_a_blind_file_of_many_cells_reveals_byte_exact(tmp_path, capsys):
    """256 x 256: 64 cells in the password's order, the message in 28 of them."""
    _reveals_exactly(tmp_path, "blind_many_stego.png", "blind_many_message.bin", "--mode", "blind", "--password",
                     "compat fixture 2", wrong=("--mode", "blind", "--password", "compat fixture"))  # the other fixture's


def test_the_key_file_format_is_frozen():
    """The fields, dtypes and shapes of a key file, and a key that is read and written again
    gives the same arrays."""
    stored = _arrays(FIX / "key.npz")
    assert {k: (str(v.dtype), v.shape) for k, v in stored.items()} == KEY_ARRAYS
    key = Key.load(FIX / "key.npz")
    assert (key.turn, key.bpp, key.height, key.width, key.tile, key.version) == (True, 3, 64, 64, 256, 1)
    assert key.model_fingerprint == str(stored["model_fingerprint"]) and key.corrections.size == 0
    buf = io.BytesIO()
    key.write(buf)
    again = _arrays(io.BytesIO(buf.getvalue()))
    assert {k: (str(v.dtype), v.shape) for k, v in again.items()} == KEY_ARRAYS
    for name, value in stored.items():
        assert np.array_equal(again[name], value), name


def test_a_key_is_written_in_the_format_whatever_dtypes_it_was_built_with():
    """A key built by code with other dtypes (float64 z, int32 corrections and sizes, an int thumbnail)
    is still written as a version 1 key file."""
    key = Key.load(FIX / "key.npz")
    int32 = {k: np.int32(getattr(key, k)) for k in ("bpp", "height", "width", "tile", "version")}
    built = Key(**{**key.__dict__, **int32, "z": key.z.astype(np.float64), "corrections": np.array([1, 2], np.int32),
                   "thumbnail": key.thumbnail.astype(np.int32)})
    buf = io.BytesIO()
    built.write(buf)
    arrays = _arrays(io.BytesIO(buf.getvalue()))
    assert {k: (str(v.dtype), v.shape) for k, v in arrays.items()} == dict(KEY_ARRAYS, corrections=("int64", (2,)))


def _variant(tmp_path, **changes):
    """The fixture's key file with some arrays replaced (None: removed)."""
    arrays = _arrays(FIX / "key.npz")
    for k, v in changes.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    path = tmp_path / "variant.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("change, error", [
    (dict(format=np.array("inn-stego-kex")), "is not an inn-stego key file (fields missing or malformed)"),
    (dict(turn=None), "is not an inn-stego key file (fields missing or malformed)"),
    (dict(size=np.array([64], np.int64)), "is not an inn-stego key file (fields missing or malformed)"),
    (dict(version=np.array(KEY_VERSION + 1, np.int64)), f"is a version {KEY_VERSION + 1} key; this code reads up "
                                                         f"to {KEY_VERSION}: update the package"),
    (dict(size=np.array([64, 65], np.int64)), "is damaged: z has shape (3, 64, 64) for a 65 x 64 cover"),
    (dict(bpp=np.array(2, np.int64)), "is damaged: z has shape (3, 64, 64) for a 64 x 64 cover"),
    (dict(tile=np.array(0, np.int64)), "is damaged: z has shape (3, 64, 64) for a 64 x 64 cover"),
    (dict(corrections=np.array([3 * 64 * 64], np.int64)), "is damaged: correction positions out of range"),
    (dict(corrections=np.array([5, -1], np.int64)), "is damaged: correction positions out of range"),
    (dict(corrections=np.array([64 * 64], np.int64), bpp=np.array(1, np.int64)),
     "is damaged: correction positions out of range"),
])
def test_a_key_file_outside_the_format_is_refused_with_what_is_wrong(tmp_path, change, error):
    path = _variant(tmp_path, **change)
    with pytest.raises(KeyFileError) as e:
        Key.load(path)
    assert str(e.value) == f"{path} {error}"


def test_a_key_file_at_the_edges_of_the_format_is_read(tmp_path):
    key = Key.load(_variant(tmp_path, corrections=np.array([0, 64 * 64 - 1], np.int64), bpp=np.array(1, np.int64),
                            tile=np.array(1, np.int64), version=np.array(0, np.int64)))
    assert key.corrections.tolist() == [0, 64 * 64 - 1] and (key.bpp, key.tile, key.version) == (1, 1, 0)
    assert key.corrections.dtype == np.int64 and key.z.dtype == np.float32 and key.thumbnail.dtype == np.uint8
    assert Key.load(_variant(tmp_path, corrections=np.array([3 * 64 * 64 - 1], np.int64))).bpp == 3


def test_a_key_file_that_is_no_archive_is_refused(tmp_path):
    path = tmp_path / "k.npz"
    path.write_bytes(b"a text file, not an archive")  # numpy would unpickle it if allowed to
    with pytest.raises(KeyFileError) as e:
        Key.load(path)
    assert str(e.value) == f"{path} is not a readable key file (truncated, corrupted or another format: ValueError)"
    with pytest.raises(KeyFileError) as e:
        Key.load(tmp_path / "missing.npz")
    assert str(e.value) == f"key file not found: {tmp_path / 'missing.npz'}"


def test_every_way_to_reveal_fails_with_one_error_type_never_wrong_bytes():
    """Key mode with another image's key and blind mode with a wrong password both raise
    helpers.NoMessageError (their own RevealError / BlindRevealError are kinds of it)."""
    from helpers import NoMessageError
    from helpers.data.photos import SAMPLES_DIR
    from helpers.methods.blind_mode import blind_reveal
    from helpers.methods.key_mode import reveal

    with pytest.raises(NoMessageError):
        blind_reveal(FIX / "blind_stego.png", password="another")
    with pytest.raises(NoMessageError):
        reveal(SAMPLES_DIR / "chelsea_128x128_1.png", FIX / "key.npz")  # an image of another size
