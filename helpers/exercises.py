"""Checks for the exercises whose answer is a value: each computes the right answer itself (from the
package's own code, never from a stored number), compares, and prints right or not yet with a hint.
Call one with ``None`` and it only says what it expects. Each returns ``True``, ``False`` or
``None`` (no answer given).

Used by the exercise cells of notebooks 02, 03, 04 and 10; the worked solutions are folded under
each notebook's exercises.
"""

from __future__ import annotations

import math

import numpy as np


def _verdict(answer, right: bool, what: str, hint: str) -> bool | None:
    if answer is None:
        print(f"no answer yet: replace None by {what}")
        return None
    print(f"right: {what} is {answer}" if right else f"not yet: {answer} is not {what}. Hint: {hint}")
    return right


def check_parameter_count(answer, growth: int = 32, n_layers: int = 5, n_blocks: int = 8) -> bool | None:
    """Notebook 02, exercise 1: the number of parameters of :class:`helpers.network.model.StegoINN` with
    these dense-block settings (the network is built and its parameters counted)."""
    from helpers.network.model import StegoINN

    true = sum(p.numel() for p in StegoINN(n_blocks=n_blocks, growth=growth, n_layers=n_layers).parameters())
    return _verdict(answer, answer == true,
                    f"the parameter count at growth {growth}, {n_layers} layers, {n_blocks} blocks",
                    "three dense blocks per coupling block; conv k of a dense block sees c_in + k * growth channels")


def check_full_margin(zero, one, t) -> bool | None:
    """Notebook 03, exercise 2: values for bit 0 and bit 1 in [0, 1] and a threshold ``t`` such that
    any error smaller than 0.5 is harmless (the margin, min(t - zero, one - t), is 0.5)."""
    if None in (zero, one, t):
        return _verdict(None, False, "values (zero, one, t)", "")
    margin = min(t - zero, one - t)
    ok = 0 <= zero < t < one <= 1 and math.isclose(margin, 0.5)
    return _verdict((zero, one, t), ok, "a mapping with margin 0.5",
                    f"your margin is {margin:g}: the threshold must sit halfway between two values 1 apart")


def uniform_noise_edge(margin: float) -> float:
    """The standard deviation of uniform noise on [-a, a] at which errors start: a = margin, sigma = a / sqrt(3)."""
    return margin / math.sqrt(3)


def check_uniform_noise_edge(sigma_mapped, sigma_plain, tol: float = 0.01) -> bool | None:
    """Notebook 03, exercise 4: the noise level (standard deviation) at which uniform noise starts
    to cause errors, with mapping (margin :data:`~helpers.coding.mapping.T_MAPPED`) and without (margin
    1 - :data:`~helpers.coding.mapping.T_PLAIN`)."""
    from helpers.coding.mapping import T_MAPPED, T_PLAIN

    if sigma_mapped is None or sigma_plain is None:
        return _verdict(None, False, "two standard deviations (with mapping, without)", "")
    true = (uniform_noise_edge(T_MAPPED), uniform_noise_edge(1 - T_PLAIN))
    ok = abs(sigma_mapped - true[0]) <= tol and abs(sigma_plain - true[1]) <= tol
    return _verdict((sigma_mapped, sigma_plain), ok, "where RA leaves 100 % under uniform noise",
                    "uniform noise on [-a, a] never crosses a margin larger than a, and its standard deviation is a / sqrt(3)")


def expected_seed_overlap(n_list: int = 5000, n_train: int = 1000) -> float:
    """Expected number of training images two seeds share: each of the first seed's n_train images
    is in the second's with probability n_train / n_list."""
    return n_train * n_train / n_list


def check_seed_overlap(answer, n_list: int = 5000, n_train: int = 1000) -> bool | None:
    """Notebook 04, exercise 1: how many of the 1,000 training images of val2017's 5,000 stay the
    same when the seed changes (the expectation; within 10 % counts as right). Also prints what
    :func:`helpers.data.subsets.choose_subset` gives for seeds 2022 and 2023 on a list of that length."""
    from helpers.data.subsets import choose_subset

    true = expected_seed_overlap(n_list, n_train)
    result = _verdict(answer, answer is not None and abs(answer - true) <= 0.1 * true,
                      f"the expected overlap of two seeds' {n_train} of {n_list}",
                      "each image of the first choice is in the second with probability n_train / n_list")
    if answer is not None:
        names = [f"{k:012d}.jpg" for k in range(n_list)]
        first, second = (set(choose_subset(names, n_train, 0, seed=s)[0]) for s in (2022, 2023))
        print(f"(seeds 2022 and 2023 share {len(first & second)}; the expectation is {true:g})")
    return result


def check_log_det_bound(clamp, answer, size: int = 64) -> bool | None:
    """Notebook 10, exercise 1: the largest |log det J| of one coupling block of the coupling
    explorer (a 3 x size x size secret) at ``clamp``: each of the 3 * size * size log-scales is at
    most ``clamp`` in size after the soft clamp."""
    true = clamp * 3 * size * size
    return _verdict(answer, answer is not None and math.isclose(answer, true, rel_tol=1e-6),
                    f"the bound on |log det J| at clamp {clamp}",
                    "log det J is the sum of the clamped log-scales, one per secret value")


def mapping_noise_edges(step: float = 0.02, target: float = 0.99) -> tuple[float, float]:
    """The first noise level of the mapping explorer's slider (steps of ``step``) at which RA of
    the random payload falls below ``target``: with mapping (t = 0.25) and without (t = 0.5)."""
    from helpers.widgets import mapping_demo

    levels = np.round(np.arange(0, 0.5 + step / 2, step), 4)
    edges = []
    for mapping, t in ((True, 0.25), (False, 0.5)):
        edges.append(next(float(s) for s in levels if mapping_demo("random", t=t, noise=float(s), mapping=mapping)["ra"] < target))
    return edges[0], edges[1]


def check_mapping_noise(with_mapping, without_mapping) -> bool | None:
    """Notebook 10, exercise 2: the noise levels (slider values) at which RA of the random payload
    first falls below 99 %, with mapping (t = 0.25) and without (t = 0.5)."""
    if with_mapping is None or without_mapping is None:
        return _verdict(None, False, "two slider values (with mapping, without)", "")
    true = mapping_noise_edges()
    ok = math.isclose(with_mapping, true[0], abs_tol=1e-6) and math.isclose(without_mapping, true[1], abs_tol=1e-6)
    return _verdict((with_mapping, without_mapping), ok, "the first noise levels below 99 % RA",
                    "move the noise slider one step at a time; without mapping set t to 0.5 first")
