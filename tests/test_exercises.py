"""The exercise checks: the right answer (computed independently here) passes, a wrong one fails,
and None only says what is expected."""

import math

from helpers import StegoINN
from helpers.exercises import (check_full_margin, check_log_det_bound, check_mapping_noise, check_parameter_count,
                               check_seed_overlap, check_uniform_noise_edge, mapping_noise_edges)
from helpers.widgets import coupling_demo, mapping_demo


def dense_block_params(c_in, c_out, growth, n_layers):
    convs = [(c_in + k * growth, growth) for k in range(n_layers - 1)] + [(c_in + (n_layers - 1) * growth, c_out)]
    return sum(9 * i * o + o for i, o in convs)


def test_parameter_count_by_hand(capsys):
    by_hand = 8 * 3 * dense_block_params(3, 3, 32, 5)
    assert by_hand == sum(p.numel() for p in StegoINN().parameters())
    assert check_parameter_count(by_hand) is True
    assert check_parameter_count(by_hand, growth=16) is False
    assert check_parameter_count(8 * 3 * dense_block_params(3, 3, 16, 4), growth=16, n_layers=4) is True
    assert check_parameter_count(None) is None and "no answer yet" in capsys.readouterr().out


def test_full_margin():
    assert check_full_margin(0, 1, 0.5) is True
    assert check_full_margin(0, 0.5, 0.25) is False  # the paper's mapping: margin 0.25
    assert check_full_margin(None, 1, 0.5) is None


def test_uniform_noise_edge():
    assert check_uniform_noise_edge(0.25 / math.sqrt(3), 0.5 / math.sqrt(3)) is True
    assert check_uniform_noise_edge(0.25, 0.5) is False  # the half-widths, not the standard deviations


def test_seed_overlap(capsys):
    assert check_seed_overlap(200) is True and "seeds 2022 and 2023 share" in capsys.readouterr().out
    assert check_seed_overlap(1000) is False and check_seed_overlap(0) is False


def test_log_det_bound_holds_in_the_explorer():
    for clamp in (0.5, 2.0):
        r = coupling_demo(clamp=clamp, scale=10.0)
        assert abs(r["log_det"]) <= clamp * 3 * 64 * 64
    assert check_log_det_bound(2.0, 2.0 * 3 * 64 * 64) is True and check_log_det_bound(2.0, 3 * 64 * 64) is False


def test_mapping_noise_edges_are_the_first_slider_values_below_99_percent():
    with_map, without_map = mapping_noise_edges()
    assert mapping_demo("random", t=0.25, noise=with_map)["ra"] < 0.99
    assert mapping_demo("random", t=0.25, noise=round(with_map - 0.02, 4))["ra"] >= 0.99
    assert mapping_demo("random", t=0.5, noise=without_map, mapping=False)["ra"] < 0.99
    assert mapping_demo("random", t=0.5, noise=round(without_map - 0.02, 4), mapping=False)["ra"] >= 0.99
    assert without_map > with_map  # twice the margin without mapping
    assert check_mapping_noise(with_map, without_map) is True and check_mapping_noise(without_map, with_map) is False
