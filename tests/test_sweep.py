"""Tests of rnnbias.sweep: run order, labels, reshaping, summaries, tables and every error."""

import itertools
import math

import numpy as np
import pytest
import torch

import rnnbias as rb
from rnnbias.sweep import Grid


def _grid():
    return Grid(k=[2, 4], sigma=[0.1, 0.5, 1.0], seed=range(3))


def test_runs_are_the_product_of_the_axes_in_c_order():
    g = _grid()
    assert len(g) == 18
    assert g.shape == (2, 3, 3)
    assert g.names == ("k", "sigma", "seed")
    assert g.axes == {"k": (2, 4), "sigma": (0.1, 0.5, 1.0), "seed": (0, 1, 2)}
    combos = list(itertools.product([2, 4], [0.1, 0.5, 1.0], range(3)))
    assert list(zip(g["k"], g["sigma"], g["seed"], strict=True)) == combos
    assert [tuple(g.run(r).values()) for r in range(len(g))] == combos
    assert g.run(-1) == {"k": 4, "sigma": 1.0, "seed": 2}


def test_axes_are_copied_and_values_become_python_numbers():
    values = [0.1, 0.5]
    g = Grid(
        sigma=values,
        seed=np.arange(2),
        lr=torch.tensor([0.01, 0.02], dtype=torch.float64),
        name=("a", "b"),
    )
    values.append(1.0)
    assert g.shape == (2, 2, 2, 2)
    g.axes["sigma"] = "changed"
    assert g.axes["sigma"] == (0.1, 0.5)
    assert [type(v) for v in g["seed"][:2]] == [int, int]
    assert g["lr"][:2] == [0.01, 0.01] and type(g["lr"][0]) is float
    assert g["name"][:2] == ["a", "b"]
    assert repr(g) == "Grid(sigma=[0.1, 0.5], seed=[0, 1], lr=[0.01, 0.02], name=['a', 'b'])"


def test_unflatten_puts_each_run_at_its_labels():
    g = _grid()
    t = torch.arange(len(g) * 4, dtype=torch.float64).reshape(len(g), 4)
    for out in (g.unflatten(t), torch.as_tensor(g.unflatten(t.numpy()))):
        assert out.shape == (2, 3, 3, 4)
        for r in range(len(g)):
            i, j, s = (g.axes[n].index(v) for n, v in g.run(r).items())
            assert torch.equal(out[i, j, s], t[r])
    assert isinstance(g.unflatten(t.numpy()), np.ndarray)


@pytest.mark.parametrize("how", ["mean", "median", "min", "max", 0.0, 0.25, 0.9, 1])
@pytest.mark.parametrize(
    "over", ["seed", "k", ["sigma", "seed"], ("seed", "k"), ["k", "sigma", "seed"]]
)
def test_reduce_matches_a_manual_summary_by_label(over, how):
    g = _grid()
    t = torch.randn(len(g), 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    manual = {
        "mean": lambda x: x.mean(0),
        "median": lambda x: np.median(x, 0),
        "min": lambda x: x.min(0),
        "max": lambda x: x.max(0),
    }.get(how, lambda x: np.quantile(x, how, axis=0))
    over_names = [over] if isinstance(over, str) else list(over)
    kept = [n for n in g.names if n not in over_names]
    got_t, got_a = g.reduce(t, over, how), g.reduce(t.numpy(), over, how)
    assert isinstance(got_t, torch.Tensor) and isinstance(got_a, np.ndarray)
    assert got_t.shape == (*[len(g.axes[n]) for n in kept], 3) == got_a.shape
    for labels in itertools.product(*(g.axes[n] for n in kept)):
        position = tuple(g.axes[n].index(v) for n, v in zip(kept, labels, strict=True))
        expected = manual(t.numpy()[g.select(**dict(zip(kept, labels, strict=True)))])
        np.testing.assert_allclose(got_t[position].numpy(), expected, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(got_a[position], expected, rtol=1e-14, atol=1e-15)


def test_reduce_of_integers_booleans_and_nan():
    g = Grid(k=[2, 4], seed=range(4))
    steps = torch.tensor([10, 20, 30, 40, 1, 2, 3, 4])
    assert torch.equal(
        g.reduce(steps, "seed", "median"), torch.tensor([25.0, 2.5], dtype=torch.float64)
    )
    assert torch.equal(g.reduce(steps, "seed", "max"), torch.tensor([40, 4]))
    converged = torch.tensor([True, True, False, True, False, False, False, True])
    assert torch.equal(
        g.reduce(converged, "seed", "mean"), torch.tensor([0.75, 0.25], dtype=torch.float64)
    )
    assert g.reduce(np.array([1, 2, 3, 4, 5, 6, 7, 8]), ["k", "seed"], "mean") == 4.5
    err = torch.tensor([1.0, math.nan, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], dtype=torch.float64)
    for how in ["mean", "median", "min", "max", 0.3]:
        out = g.reduce(err, "seed", how)
        assert math.isnan(out[0]) and math.isfinite(out[1]), how


def test_table_prints_summaries_by_label():
    g = _grid()
    t = torch.arange(len(g), dtype=torch.float64) * 1e-5 + 1.234567e-5
    assert g.table(t, rows="k", cols="sigma") == (
        "median over seed\n"
        "k \\ sigma        0.1        0.5        1.0\n"
        "2          2.235e-05  5.235e-05  8.235e-05\n"
        "4          0.0001123  0.0001423  0.0001723"
    )
    # rows after cols in the grid: the table is transposed, the numbers are the same
    assert g.table(t, rows="sigma", cols="k", how="max").splitlines()[1:] == [
        "sigma \\ k          2          4",
        "0.1        3.235e-05  0.0001223",
        "0.5        6.235e-05  0.0001523",
        "1.0        9.235e-05  0.0001823",
    ]
    assert g.table(np.arange(18) + np.arange(18) % 2 * 0.5, rows="k", how=0.5) == (
        "q0.5 over sigma, seed\nk  q0.5\n2     4\n4  13.5"
    )
    assert g.table(torch.arange(18), rows="seed", cols="sigma", how="min").splitlines() == [
        "min over k",
        "seed \\ sigma  0.1  0.5  1.0",
        "0               0    3    6",
        "1               1    4    7",
        "2               2    5    8",
    ]
    assert Grid(seed=[3, 7, 9]).table(np.array([0.5, math.nan, 2.42649e10]), rows="seed") == (
        "seed      value\n3           0.5\n7           nan\n9     2.426e+10"
    )


def test_select_picks_runs_by_label():
    g = _grid()
    assert g.select() == list(range(18))
    assert g.select(sigma=0.5) == [3, 4, 5, 12, 13, 14]
    assert g.select(sigma=np.float64(0.5), k=torch.tensor(4)) == [12, 13, 14]
    assert g.select(k=4, seed=[2, 0]) == [9, 11, 12, 14, 15, 17]
    assert g.select(sigma=np.array([1.0, 0.1]), seed=range(1)) == [0, 6, 9, 15]
    for r in g.select(k=4, seed=[2, 0]):
        assert g.run(r)["k"] == 4 and g.run(r)["seed"] in (0, 2)


def test_a_small_study_round_trips_through_one_batch():
    """One batch over k × sigma × seed gives, cell by cell, what separate batches give."""
    g = Grid(k=[2, 4], sigma=[0.1, 0.5], seed=range(3))
    teacher = rb.low_dimensional([0.9])
    model = rb.init_gaussian(6, g["sigma"], seed=g["seed"])
    res = rb.train_gd(model, teacher, g["k"], max_steps=200)
    err = rb.extrapolation_error(res.model, teacher, g["k"], 50)
    cube = g.unflatten(err)
    assert cube.shape == (2, 2, 3)
    for i, k in enumerate(g.axes["k"]):
        for j, sigma in enumerate(g.axes["sigma"]):
            alone = rb.train_gd(
                rb.init_gaussian(6, sigma, seed=[0, 1, 2]), teacher, k, max_steps=200
            )
            expected = rb.extrapolation_error(alone.model, teacher, k, 50)
            torch.testing.assert_close(cube[i, j], expected, rtol=1e-10, atol=1e-14)
            idx = g.select(k=k, sigma=sigma)
            torch.testing.assert_close(err[idx], expected, rtol=1e-10, atol=1e-14)
            picked = res.model.select(idx)
            torch.testing.assert_close(picked.A, alone.model.A, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(g.reduce(err, "seed", "median"), cube.median(-1).values)  # odd count
    assert g.table(err, "k", "sigma").splitlines()[0] == "median over seed"


@pytest.mark.parametrize(
    "axes, error, message",
    [
        ({}, ValueError, "at least one axis"),
        ({"k": 3}, TypeError, "k must be a sequence of values"),
        ({"structure": "full"}, TypeError, "structure must be a sequence of values.*got 'full'"),
        ({"k": {1, 2}}, TypeError, "k must be a sequence"),
        ({"k": (x for x in [1, 2])}, TypeError, "k must be a sequence"),
        ({"k": None}, TypeError, "got None"),
        ({"k": []}, ValueError, "k must have at least one value"),
        ({"k": np.zeros((2, 2))}, ValueError, r"k must be 1-D, got shape \(2, 2\)"),
        ({"k": [1, None]}, TypeError, r"k\[1\] must be a real number or a str, got None"),
        ({"k": [1, [2]]}, TypeError, r"k\[1\] must be a real number"),
        ({"k": [1, 2j]}, TypeError, r"k\[1\] must be a real number"),
        ({"sigma": [0.1, math.nan]}, ValueError, r"sigma\[1\] is nan"),
        (
            {"lr": torch.tensor([0.1, 0.2])},
            TypeError,
            "lr must hold float64 values, not torch.float32",
        ),
        ({"lr": np.array([0.1], dtype=np.float32)}, TypeError, "lr must hold float64 values"),
        ({"k": [2, 3, 2]}, ValueError, "k must have distinct values, got 2 twice"),
        ({"seed": [1, True]}, ValueError, "seed must have distinct values"),
    ],
)
def test_bad_axes_are_refused(axes, error, message):
    with pytest.raises(error, match=message):
        Grid(**axes)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda g: g[0], TypeError, "name must be an axis name"),
        (lambda g: g["lr"], ValueError, r"name must be one of the axes \['k', 'sigma', 'seed'\]"),
        (lambda g: g.run(1.0), TypeError, "index must be an integer, got 1.0"),
        (lambda g: g.run(True), TypeError, "index must be an integer"),
        (lambda g: g.run(18), ValueError, "index must index one of 18 runs"),
        (lambda g: g.select(lr=0.1), ValueError, "select's keywords must be one of the axes"),
        (
            lambda g: g.select(sigma=0.2),
            ValueError,
            r"sigma must be among \[0.1, 0.5, 1.0\], got 0.2",
        ),
        (lambda g: g.select(sigma=[0.1, 0.3]), ValueError, "got 0.3"),
        (lambda g: g.select(sigma="0.1"), ValueError, "got '0.1'"),
        (lambda g: g.select(sigma=[]), ValueError, "sigma must have at least one value"),
        (lambda g: g.select(sigma=[0.1, 0.1]), ValueError, "sigma must have distinct values"),
        (lambda g: g.unflatten([0.0] * 18), TypeError, "t must be a torch.Tensor or numpy.ndarray"),
        (lambda g: g.unflatten(torch.zeros(17)), ValueError, r"length 18 .*got shape \(17,\)"),
        (lambda g: g.unflatten(torch.tensor(1.0)), ValueError, r"got shape \(\)"),
        (lambda g: g.unflatten(np.zeros((3, 18))), ValueError, r"got shape \(3, 18\)"),
        (lambda g: g.reduce(torch.zeros(17), "seed"), ValueError, "leading run axis of length 18"),
        (lambda g: g.reduce(torch.zeros(18), "lr"), ValueError, "over must be one of the axes"),
        (lambda g: g.reduce(torch.zeros(18), 3), TypeError, "over must be an axis name or a seq"),
        (lambda g: g.reduce(torch.zeros(18), [3]), TypeError, "over must be an axis name"),
        (lambda g: g.reduce(torch.zeros(18), []), ValueError, "over must name at least one"),
        (lambda g: g.reduce(torch.zeros(18), ["k", "k"]), ValueError, "each axis once"),
        (lambda g: g.reduce(torch.zeros(18), "k", "mode"), ValueError, "how must be one of"),
        (lambda g: g.reduce(torch.zeros(18), "k", 1.5), ValueError, r"in \[0, 1\], got 1.5"),
        (lambda g: g.reduce(torch.zeros(18), "k", -0.1), ValueError, r"in \[0, 1\]"),
        (lambda g: g.reduce(torch.zeros(18), "k", math.nan), ValueError, r"in \[0, 1\], got nan"),
        (lambda g: g.reduce(torch.zeros(18), "k", True), TypeError, "how must be one of"),
        (lambda g: g.reduce(torch.zeros(18), "k", None), TypeError, "got None"),
        (lambda g: g.table(torch.zeros(18, 2), "k"), ValueError, r"one number per run.*\(18, 2\)"),
        (lambda g: g.table(torch.zeros(17), "k"), ValueError, "leading run axis of length 18"),
        (lambda g: g.table([0.0] * 18, "k"), TypeError, "t must be a torch.Tensor"),
        (lambda g: g.table(torch.zeros(18), "k", "k"), ValueError, "rows and cols must be diff"),
        (lambda g: g.table(torch.zeros(18), "lr"), ValueError, "rows must be one of the axes"),
        (lambda g: g.table(torch.zeros(18), "k", "lr"), ValueError, "cols must be one of the axes"),
        (lambda g: g.table(torch.zeros(18), None), TypeError, "rows must be an axis name"),
        (lambda g: g.table(torch.zeros(18), "k", how="mode"), ValueError, "how must be one of"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(call, error, message):
    with pytest.raises(error, match=message):
        call(_grid())
