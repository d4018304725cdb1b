"""Tests of the support modules: seeding, book helpers, plotting and widgets."""

import json
import math
import random

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import rnnbias as rb
from rnnbias import plotting, widgets


def test_set_seed_seeds_everything_and_uses_one_thread():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()  # noqa: NPY002

    rb.set_seed(3)
    first = draw()
    rb.set_seed(3)
    assert draw() == first
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="seed must be >= 0"):
        rb.set_seed(-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        rb.set_seed(1.5)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (3.14159265, 3.142),
        (0.000123456, 0.0001235),
        (-98765.4, -98770.0),
        (0.0, 0.0),
        (torch.tensor(2.71828), 2.718),
        (1e-30 / 3, 3.333e-31),
    ],
)
def test_sig_rounds_to_four_significant_digits(x, expected):
    assert rb.sig(x) == expected


def test_sig_passes_non_finite_values_through():
    assert math.isnan(rb.sig(float("nan"))) and rb.sig(float("inf")) == float("inf")


@pytest.mark.parametrize("seed", range(5))
def test_sig_rounds_bounds_outward(seed):
    """An upper bound printed with rounding="up" is never below the value; "down" never above."""
    rng = random.Random(seed)
    for _ in range(2000):
        x = rng.uniform(-1, 1) * 10 ** rng.uniform(-30, 30)
        up, down, near = rb.sig(x, rounding="up"), rb.sig(x, rounding="down"), rb.sig(x)
        assert down <= x <= up, (x, down, up)
        assert down <= near <= up
        assert float(f"{up:.4g}") == up and float(f"{down:.4g}") == down  # still 4 digits
    assert rb.sig(2.647e-7 + 1e-13, rounding="up") == 2.648e-7
    assert rb.sig(2.6479e-7, rounding="down") == 2.647e-7
    for exact in (2.5e-7, 0.1, 0.3, 1234.0, 7e22):  # a value with 4 digits or fewer stays
        assert rb.sig(exact, rounding="up") == exact == rb.sig(exact, rounding="down")


def test_sig_and_glue_refuse_bad_rounding_and_arrays():
    with pytest.raises(ValueError, match="rounding"):
        rb.sig(1.0, rounding="outward")
    with pytest.raises(ValueError, match="single real number"):
        rb.sig(torch.ones(3))
    with pytest.raises(TypeError, match="real number"):
        rb.sig(None)
    assert rb.glue("bound", torch.tensor(2.6471e-7), rounding="up") == 2.648e-7


def test_glue_returns_the_rounded_value():
    assert rb.glue("x", torch.tensor(1.234567)) == 1.235
    assert rb.glue("n", 12) == 12
    with pytest.raises(ValueError, match="name must be a Python identifier"):
        rb.glue("", 1.0)
    with pytest.raises(ValueError, match="got 'ch1 rho'"):
        rb.glue("ch1 rho", 1.0)
    with pytest.raises(TypeError, match="name must be a string, got 3"):
        rb.glue(3, 1.0)


class _Shell:
    def __init__(self) -> None:
        self.user_ns: dict = {}


def test_glue_and_recall_define_the_names_the_prose_evaluates(monkeypatch, tmp_path):
    """jupyterlab-myst evaluates {eval}`name` in the kernel: glue and recall bind the name."""
    import json

    import IPython

    from rnnbias import book

    shell = _Shell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    rb.glue("ch1_rho", 0.727234)
    assert shell.user_ns["ch1_rho"] == "0.7272" and repr(shell.user_ns["ch1_rho"]) == "0.7272"
    record = {"application/papermill.record/text/plain": "'4.2 × 10⁻⁷'"}
    scrap = {"scrapbook": {"name": "ch4_x", "mime_prefix": "application/papermill.record/"}}
    stored = [{"expression": "ch4_y", "result": {"status": "ok", "data": {"text/plain": "12"}}}]
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [{"data": record, "metadata": scrap}]},
            {"cell_type": "markdown", "metadata": {"user_expressions": stored}},
        ]
    }
    (tmp_path / "04_chapter.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert book.glued_values(nb) == {"ch4_x": "4.2 × 10⁻⁷", "ch4_y": "12"}
    assert book.glued_values(nb, stored=False) == {"ch4_x": "4.2 × 10⁻⁷"}  # outputs only
    shell.user_ns.clear()
    assert rb.recall("04_chapter.ipynb", folder=str(tmp_path)) == book.glued_values(nb)
    assert repr(shell.user_ns["ch4_x"]) == "4.2 × 10⁻⁷" and shell.user_ns["ch4_y"] == "12"
    assert rb.recall("05_absent.ipynb", folder=str(tmp_path)) == {}  # a chapter on its own
    with pytest.raises(ValueError, match=r"notebook must name an \.ipynb file, got 'ch4_x'"):
        rb.recall("ch4_x")
    with pytest.raises(TypeError, match="notebook must be a file name, got None"):
        rb.recall(None)


def test_plot_style_is_opaque_and_dark_on_white():
    plotting.plot_style()
    assert mpl.rcParams["figure.facecolor"] == "white"
    assert mpl.rcParams["savefig.facecolor"] == "white"
    assert "#FFFF00" not in [c.upper() for c in plotting.COLORS]


def test_plot_impulse_response_labels_axes_and_marks_k():
    fig, ax = plt.subplots()
    out = plotting.plot_impulse_response(
        torch.ones(6, dtype=torch.float64), teacher=rb.memoryless().impulse_response(6), k=3, ax=ax
    )
    assert out is ax
    assert ax.get_xlabel() == "lag $j$" and "g_j" in ax.get_ylabel()
    assert any(list(line.get_xdata()) == [2.5, 2.5] for line in ax.lines)  # the k rule
    plotting.plot_impulse_response([1.0, 2.0], ax=ax, marker="x", linestyle="none")  # overrides
    assert ax.lines[-1].get_marker() == "x"
    plt.close(fig)


def test_plot_matrix_and_modes():
    fig, ax = plt.subplots()
    plotting.plot_matrix(torch.eye(3, dtype=torch.float64), ax=ax, title="I")
    with pytest.raises(ValueError, match="M must be a matrix"):
        plotting.plot_matrix(torch.ones(3), ax=ax)
    plt.close(fig)
    ax_eig, ax_g = plotting.plot_modes(rb.init_gaussian(4, 0.5, 0, structure="diagonal"), n=10)
    assert ax_eig.get_xlabel() == r"Re $\lambda$" and len(ax_g.lines) >= 1
    plt.close("all")


def test_oscillator_has_the_stated_impulse_response():
    r, theta, lam = 0.8, 0.7, -0.5
    g = rb.impulse_response(widgets.oscillator(r, theta, lam), 12)[0]
    j = torch.arange(12, dtype=torch.float64)
    torch.testing.assert_close(g, r**j * torch.cos(j * theta) + lam**j)
    eig = torch.linalg.eigvals(widgets.oscillator(r, theta, lam).A[0])
    torch.testing.assert_close(
        eig.abs().sort().values, torch.tensor([0.5, 0.8, 0.8], dtype=torch.float64)
    )
    with pytest.raises(ValueError, match="r must be >= 0"):
        widgets.oscillator(-1.0, 0.0, 0.0)


def test_eigenvalue_explorer_builds_three_sliders():
    ui = widgets.eigenvalue_explorer(n=20)
    sliders = [c for c in ui.widget.children if hasattr(c, "value") and hasattr(c, "min")]
    assert [s.description for s in sliders] == ["modulus r", "angle θ", "real λ"]
    plt.close("all")


@pytest.mark.parametrize("kind", list(widgets.INTERPOLATORS))
def test_every_interpolator_kind_interpolates_and_is_drawn(kind):
    model = widgets.interpolator(kind, 4, alpha=1.5, rho=0.9, n=20)
    assert float(rb.population_loss(model, rb.memoryless(), 4)[0]) == 0.0
    assert float(rb.extrapolation_error(model, rb.memoryless(), 4, 20)[0]) > 0
    ax_g, ax_loss = widgets.show_interpolator(kind, 4, 1.5, 0.9, n=20)
    assert ax_loss.get_xlabel() == "test length $T$" and ax_g.get_xlabel() == "lag $j$"
    plt.close("all")


def test_interpolator_taps_are_the_stated_ones():
    g = rb.impulse_response(widgets.interpolator("geometric tail", 3, 2.0, 0.5, n=8), 9)[0]
    assert g.tolist() == [1.0, 0.0, 0.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.0]
    with pytest.raises(ValueError, match="kind must be one of"):
        widgets.interpolator("random", 3)
    with pytest.raises(ValueError, match="n must be >= 4"):
        widgets.interpolator("cyclic", 3, n=3)


def test_tail_explorer_builds_its_controls():
    ui = widgets.tail_explorer(n=20)
    labels = [c.description for c in ui.widget.children if hasattr(c, "description")]
    assert labels[:4] == ["model", "train length k", "tail α", "decay ρ"]
    plt.close("all")


def test_an_explorer_output_carries_both_views_from_one_table_of_controls():
    ui = widgets.tail_explorer(n=20)
    bundle = ui._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab's sliders
    page = bundle["text/html"]  # the book's in-page version
    assert page.startswith('<div class="rnb-explorer" id="rnb-tails">')
    config = json.loads(page.split('<script type="application/json">')[1].split("</script>")[0])
    assert config["kind"] == "tails" and config["data"]["n"] == 20
    sliders = {c.description: c for c in ui.widget.children if hasattr(c, "description")}
    for control in config["controls"]:  # the same settings in both
        widget = sliders[control["label"]]
        assert widget.value == control["value"]
        if "options" not in control:
            assert (widget.min, widget.max, widget.step) == (
                control["min"],
                control["max"],
                control["step"],
            )
    assert config["data"]["uses"] == {
        "nilpotent shift": ["alpha"],
        "cyclic": ["rho"],
        "geometric tail": ["alpha", "rho"],
    }
    plt.close("all")


def test_page_explorer_escapes_its_text_and_refuses_unknown_kinds():
    page = widgets.page_explorer("eigenvalues", title="<b>", note="a </script> b", data={"n": 3})
    assert "<b>" not in page and "&lt;b&gt;" in page and page.count("</script>") == 1
    with pytest.raises(ValueError, match="kind must be one of"):
        widgets.page_explorer("nonsense", title="t", note="n")
    with pytest.raises(TypeError, match="kind must be a non-empty str"):
        widgets.page_explorer(3, title="t", note="n")
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        widgets.page_explorer("eigenvalues", title="t", note="n", data={"x": float("nan")})


def test_the_step_size_explorer_knows_the_sharpness_and_runs_gradient_descent():
    ui = widgets.step_size_explorer(k=5, steps=200)
    page = ui._repr_mimebundle_()["text/html"]
    data = json.loads(page.split('<script type="application/json">')[1].split("</script>")[0])[
        "data"
    ]
    # the balanced memoryless interpolant (0, 1, 1) has Hessian eigenvalues 0, 2 and 4
    assert abs(data["sharpness"]["memoryless"] - 4.0) < 1e-12
    ax_loss, _ = widgets.show_steps("memoryless", 0.2, steps=200)
    assert ax_loss.get_yscale() == "log" and "L" in ax_loss.get_ylabel()
    with pytest.raises(ValueError, match="teacher must be one of"):
        widgets.show_steps("random", 0.1)
    with pytest.raises(ValueError, match="eta must be > 0"):
        widgets.show_steps("memoryless", -0.1)
    plt.close("all")


def test_draw_panel_writes_the_explorers_markup_as_mathtext():
    _, ax = plt.subplots()
    panel = {
        "title": "E_{k,100} against σ",
        "xlabel": "lag j",
        "ylabel": "ρ_j^2",
        "ylog": True,
        "yfloor": 1e-6,
        "series": [{"x": [0, 1, 2], "y": [1.0, None, 1e-9], "kind": "stem", "label": "g_j"}],
    }
    widgets.draw_panel(ax, panel)
    assert ax.get_title() == "$E_{k,100}$ against σ" and ax.get_ylabel() == "$ρ_{j}^{2}$"
    assert ax.get_ylim()[0] >= 1e-6  # the floor
    assert widgets._mathtext("rnnbias.loss_hessian") == "rnnbias.loss_hessian"
    plt.close("all")
