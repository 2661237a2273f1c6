import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.coding.payload import (CapacityError, bits_to_bytes, bits_to_plane, bytes_to_bits, capacity_bits,
                             capacity_bytes, message_to_plane, plane_to_bits, plane_to_message)


def test_every_byte_value_round_trips():
    data = bytes(range(256))
    bits = bytes_to_bits(data)
    assert bits.shape == (2048,) and set(np.unique(bits)) == {0, 1}
    assert bits_to_bytes(bits) == data


def test_msb_first():
    assert bytes_to_bits(b"\x80").tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


def test_capacity_of_paper_cover():
    assert capacity_bits(128, 128, 3) == 49_152  # the paper's 3 bpp at 128 x 128
    assert capacity_bits(128, 128, 1) == 16_384
    assert capacity_bytes(128, 128, 3) == 6144
    assert capacity_bytes(17, 23, 1) == (17 * 23) // 8


@pytest.mark.parametrize("bpp", [1, 3])
def test_every_length_from_zero_to_capacity_round_trips(bpp):
    rng = np.random.default_rng(bpp)
    h, w = 8, 9
    cap = capacity_bytes(h, w, bpp)
    for n in range(cap + 1):
        message = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        plane = message_to_plane(message, h, w, bpp)
        assert plane.shape == (3, h, w)
        assert plane_to_message(plane, n, bpp) == message


@settings(max_examples=40, deadline=None)
@given(message=st.binary(max_size=6144))
def test_random_messages_round_trip_on_paper_cover(message):
    plane = message_to_plane(message, 128, 128, 3)
    assert plane_to_message(plane, len(message), 3) == message


@pytest.mark.parametrize("bpp", [1, 3])
def test_one_byte_over_capacity_is_a_clear_error(bpp):
    cap = capacity_bytes(128, 128, bpp)
    message_to_plane(b"x" * cap, 128, 128, bpp)  # fits exactly
    with pytest.raises(CapacityError, match=f"{cap + 1} bytes but a 128 x 128 cover holds at most {cap} bytes"):
        message_to_plane(b"x" * (cap + 1), 128, 128, bpp)


def test_one_bpp_uses_only_channel_zero():
    plane = message_to_plane(b"\xff" * capacity_bytes(16, 16, 1), 16, 16, 1)
    assert plane[0].all() and not plane[1:].any()


def test_bad_arguments():
    with pytest.raises(ValueError, match="bpp must be 1 or 3"):
        capacity_bits(8, 8, 2)
    with pytest.raises(ValueError, match="at least 1 x 1"):
        capacity_bits(0, 8, 3)
    with pytest.raises(TypeError, match="encode text first"):
        bytes_to_bits("text")
    with pytest.raises(ValueError, match="multiple of 8"):
        bits_to_bytes([1, 0, 1])
    with pytest.raises(CapacityError):
        bits_to_plane(np.ones(3 * 4 * 4 + 1), 4, 4, 3)


# --------------------------------------------------------------- what mutation testing asked for
# (tools/mutation.py: each test below kills mutants that the round-trip tests let through)

def test_defaults_are_3_bpp_and_every_output_is_uint8():
    assert capacity_bits(4, 5) == 60 and capacity_bytes(4, 5) == 7 and capacity_bits(1, 1) == 3  # 1 x 1 is allowed
    plane = message_to_plane(b"ab", 4, 5)
    assert plane.dtype == np.uint8 and plane.shape == (3, 4, 5)
    bits = plane_to_bits(plane)
    assert bits.dtype == np.uint8 and bits.size == 60
    assert plane_to_message(plane, 2) == b"ab"
    laid = bits_to_plane(np.ones((2, 8)), 4, 5)  # any array of 0/1 (here float, 2-D) is laid out flat
    assert laid.dtype == np.uint8 and laid.reshape(-1)[:16].tolist() == [1] * 16 and laid.sum() == 16


def test_plane_to_bits_reads_height_times_width_of_a_non_square_plane():
    plane = np.arange(30).reshape(3, 2, 5) % 2
    assert plane_to_bits(plane, bpp=1).tolist() == plane.reshape(-1)[:10].tolist()
    for bad in (np.zeros((3, 4)), np.zeros((3, 2, 2, 2)), np.zeros((4, 2, 2))):
        with pytest.raises(ValueError, match=r"plane must have shape \(3, height, width\), got"):
            plane_to_bits(bad)


def test_error_messages_say_exactly_what_is_wrong():
    import re

    with pytest.raises(CapacityError, match=re.escape(
            "message needs 17 bits (2 bytes) but a 1 x 2 cover holds 6 bits (0 bytes) at 3 bpp; "
            "use a larger cover, 3 bpp, or a shorter message")):
        bits_to_plane(np.ones(17), 1, 2)
    with pytest.raises(ValueError, match=re.escape("n_bytes must be between 0 and 7 for this plane, got 8")):
        plane_to_message(np.zeros((3, 4, 5), np.uint8), 8)
    with pytest.raises(CapacityError, match=re.escape("message needs 25 bits (3 bytes) but a 1 x 8 cover holds 24 bits "
                                                      "(3 bytes) at 3 bpp")):
        bits_to_plane(np.ones(25), 1, 8)
    with pytest.raises(CapacityError, match="holds 2 bits"):
        bits_to_plane(np.ones(5), 1, 2, bpp=1)  # 1 bpp: the first channel only
    with pytest.raises(ValueError, match=re.escape("n_bytes must be between 0 and 2 for this plane, got 3")):
        plane_to_message(np.zeros((3, 4, 5), np.uint8), 3, bpp=1)
    with pytest.raises(ValueError, match=r"^bits must all be 0 or 1$"):
        bits_to_bytes(np.full(8, 2))
    with pytest.raises(TypeError, match="expected bytes, got str; encode text first"):
        bytes_to_bits("text")


def test_the_filler_is_seeded_or_random_and_as_long_as_asked():
    from helpers.coding.payload import random_filler

    assert random_filler(10, 3) == random_filler(10, 3) == np.random.default_rng(3).bytes(10)
    assert random_filler(10, 3) != random_filler(10, 4)
    a, b = random_filler(10), random_filler(10)
    assert len(a) == len(b) == 10 and a != b  # secrets: 2^-80 to collide
