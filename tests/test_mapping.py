import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import T_MAPPED, map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from helpers.coding.payload import bytes_to_bits


def test_all_zeros_does_not_flip():
    secret_map, turn = map_bits(np.zeros(40, dtype=np.uint8))
    assert turn is False
    assert torch.equal(secret_map, torch.zeros(40))


def test_all_ones_flips_to_zeros():
    secret_map, turn = map_bits(np.ones(40, dtype=np.uint8))
    assert turn is True
    assert torch.equal(secret_map, torch.zeros(40))  # every bit flipped to 0, then halved
    assert torch.equal(unmap_bits(secret_map, turn), torch.ones(40, dtype=torch.uint8))


def test_exactly_half_ones_does_not_flip():
    bits = np.array([1, 0] * 20, dtype=np.uint8)
    secret_map, turn = map_bits(bits)
    assert turn is False
    assert torch.equal(secret_map, torch.as_tensor(bits, dtype=torch.float32) / 2)


def test_one_more_than_half_flips():
    bits = np.array([1] * 21 + [0] * 19, dtype=np.uint8)
    secret_map, turn = map_bits(bits)
    assert turn is True
    assert torch.equal(secret_map, torch.as_tensor(1 - bits, dtype=torch.float32) / 2)


def test_values_are_zero_and_half():
    secret_map, _ = map_bits(bytes_to_bits(b"hello, world"))
    assert set(secret_map.unique().tolist()) <= {0.0, 0.5}


def test_rejects_non_bits():
    with pytest.raises(ValueError, match="0 or 1"):
        map_bits([0, 1, 2])
    with pytest.raises(ValueError, match="0 or 1"):
        map_bits_plain([0.5, 1])


def test_noise_of_a_quarter_or_more_can_break_it():
    # the threshold is tight: an error of +0.25 on a mapped 0 reads back as 1
    secret_map, turn = map_bits(np.zeros(8, dtype=np.uint8))
    assert unmap_bits(secret_map + 0.25, turn).sum() == 8


bit_arrays = arrays(np.uint8, st.integers(1, 600), elements=st.integers(0, 1))


@settings(max_examples=200, deadline=None)
@given(bits=bit_arrays, data=st.data())
def test_any_noise_below_quarter_is_undone(bits, data):
    noise = data.draw(arrays(np.float32, bits.shape,
                             elements=st.floats(-0.25, 0.25, exclude_min=True, exclude_max=True, width=32)))
    secret_map, turn = map_bits(bits)
    assert turn == (bits.sum() > bits.size / 2)
    recovered = unmap_bits(secret_map + torch.from_numpy(noise), turn)
    assert np.array_equal(recovered.numpy(), bits)


@settings(max_examples=100, deadline=None)
@given(bits=bit_arrays, data=st.data())
def test_plain_variant_undoes_noise_below_half(bits, data):
    noise = data.draw(arrays(np.float32, bits.shape,
                             elements=st.floats(-0.5, 0.5, exclude_min=True, exclude_max=True, width=32)))
    secret_map = map_bits_plain(bits)
    assert set(secret_map.unique().tolist()) <= {0.0, 1.0}
    assert np.array_equal(unmap_bits_plain(secret_map + torch.from_numpy(noise)).numpy(), bits)


@settings(max_examples=50, deadline=None)
@given(batch=arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
                    elements=st.integers(0, 1)))
def test_batch_mode_matches_one_message_at_a_time(batch):
    secret_map, turn = map_bits(batch, batch=True)
    assert turn.shape == (batch.shape[0],)
    for k in range(batch.shape[0]):
        single_map, single_turn = map_bits(batch[k])
        assert single_turn == bool(turn[k])
        assert torch.equal(secret_map[k], single_map)
    assert np.array_equal(unmap_bits(secret_map, turn).numpy(), batch)


def test_threshold_constant_is_the_papers():
    assert T_MAPPED == 0.25


# --------------------------------------------------------------- what mutation testing asked for
# (tools/mutation.py: dtypes, the threshold's own value, and exactly half ones in a batch)

def test_dtypes_are_float32_in_and_uint8_out_whatever_the_input():
    assert map_bits(np.array([0.0, 1.0, 0.0]))[0].dtype == torch.float32  # float64 in, not turned
    assert map_bits(np.array([0.0, 1.0, 1.0]))[0].dtype == torch.float32  # turned
    assert map_bits(np.ones((2, 4), np.uint8), batch=True)[0].dtype == torch.float32
    assert map_bits_plain(np.array([0, 1], np.uint8)).dtype == torch.float32
    rev = torch.tensor([[0.1, 0.4], [0.1, 0.4]])
    assert unmap_bits(rev[0], False).dtype == torch.uint8
    assert unmap_bits(rev, torch.tensor([False, True])).dtype == torch.uint8
    assert unmap_bits_plain(rev).dtype == torch.uint8


def test_a_value_exactly_at_the_threshold_reads_as_a_mapped_one():
    """Algorithm 2: ``secret_rev >= t`` is a 1, flipped back when the message was turned."""
    at = torch.tensor([T_MAPPED])
    assert unmap_bits(at, False).tolist() == [1] and unmap_bits(at, True).tolist() == [0]
    batch = torch.full((2, 1), T_MAPPED)
    assert unmap_bits(batch, torch.tensor([False, True])).tolist() == [[1], [0]]
    assert unmap_bits_plain(torch.tensor([0.5])).tolist() == [1]


def test_exactly_half_ones_is_not_turned_in_a_batch_either():
    _, turn = map_bits(torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]]), batch=True)
    assert turn.tolist() == [False, True]


def test_bits_that_are_not_0_or_1_are_refused_with_what_to_do():
    with pytest.raises(ValueError, match=r"^message bits must all be 0 or 1; convert bytes with "
                                         r"helpers.coding.payload.bytes_to_bits first$"):
        map_bits(torch.tensor([0, 2]))
