"""The lecture dashboards, headless: the plain functions behind them, and the dashboards driven by
setting their widgets' values from the test (the outputs must change as they should)."""

import itertools

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import widgets  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_coupling_demo_inverts_whatever_the_sliders():
    # README and notebook 10: the error is float32 round-off, about 1e-7 at the default clamp however
    # far scale and shift go, a few 1e-6 at clamp 5 where the outputs reach the hundreds: bound it by
    # two float32 steps at the outputs' magnitude, and by 1e-6 at the default clamp.
    eps = float(np.finfo(np.float32).eps)
    for clamp, scale, shift in itertools.product((0.1, 2.0, 5.0), (0.0, 1.0, 10.0), (0.0, 10.0)):
        r = widgets.coupling_demo(clamp, scale, shift)
        top = max(1.0, float(r["cover_next"].abs().max()), float(r["secret_next"].abs().max()))
        assert r["max_error"] <= 2 * eps * top, (clamp, scale, shift, r["max_error"], top)
        if clamp <= 2:
            assert r["max_error"] < 1e-6
        lo, hi = r["log_scale_range"]
        assert -clamp <= lo <= hi <= clamp
    assert widgets.coupling_demo(scale=0.0)["log_det"] == 0.0  # no scaling: volume preserved
    assert abs(widgets.coupling_demo(scale=8.0)["log_det"]) > abs(widgets.coupling_demo(scale=1.0)["log_det"])


def test_mapping_demo_threshold_and_noise():
    base = widgets.mapping_demo("text", t=0.25, noise=0.05)
    assert base["ra"] == 1.0 and not base["turn"]
    assert widgets.mapping_demo("text", t=0.6, noise=0.05)["ra"] < 0.9  # above 0.5: every mapped 1 reads as 0
    assert widgets.mapping_demo("random", t=0.25, noise=0.3)["ra"] < 0.9
    assert widgets.mapping_demo("all-ones")["turn"]
    plain = widgets.mapping_demo("random", t=0.5, noise=0.2, mapping=False)
    mapped = widgets.mapping_demo("random", t=0.25, noise=0.2, mapping=True)
    assert plain["ra"] > mapped["ra"]  # same noise, half the margin with mapping (notebook 03)
    with pytest.raises(ValueError, match="payload kind"):
        widgets.mapping_demo("bogus")


def test_stego_demo_reveals_and_magnifies():
    photo = widgets.list_samples()[1].stem
    a = widgets.stego_demo(photo, "hello", 3, "key", magnify=10)
    b = widgets.stego_demo(photo, "hello", 3, "key", magnify=100)
    assert a["revealed"] == "hello" and a["exact"] and a["ra"] > 0.999 and 30 < a["psnr"] < 60
    assert b["residual"].mean() > a["residual"].mean()  # a larger magnification is brighter
    blind = widgets.stego_demo(photo, "hello", 3, "blind")
    longer = widgets.stego_demo(photo, "hello" * 200, 3, "blind")
    assert blind["revealed"] == "hello" and longer["revealed"] == "hello" * 200 and longer["exact"]
    assert 0.99 < longer["ra"] <= 1  # raw bits, before the Reed-Solomon code corrects them
    assert longer["psnr"] < blind["psnr"]  # blind mode: a longer message uses more cells


def test_steganalysis_demo_sees_lsb_payload():
    full, none = widgets.steganalysis_demo(1.0, "spa"), widgets.steganalysis_demo(0.0, "spa")
    assert full["auc LSB"] > 0.9 and abs(none["auc LSB"] - 0.5) < 0.25
    # estimates are means over the three channels; LSB-1bit embeds in red only: payload / 3
    assert abs(widgets.steganalysis_demo(0.6, "ws")["estimates"]["LSB"] - 0.2) < 0.07


def test_dashboards_respond_to_their_controls():
    board = widgets.mapping_dashboard()
    assert board.result["ra"] > 0.99 and not board.errors  # noise 0.1 against a margin of 0.25
    board.controls["t"].value = 0.7
    assert board.result["t"] == 0.7 and board.result["ra"] < 0.9
    board = widgets.coupling_dashboard()
    before = board.result["log_det"]
    board.controls["scale"].value = 6.0
    assert board.result["log_det"] != before and board.result["max_error"] < 1e-6
    board = widgets.steganalysis_dashboard()
    board.controls["payload"].value = 0.0
    assert abs(board.result["auc LSB"] - 0.5) < 0.25


def test_stego_dashboard_shows_errors_and_stays_alive():
    board = widgets.stego_dashboard()
    assert board.result["revealed"] == "Meet at dawn."
    dim = board.result["residual"].mean()
    board.controls["magnify"].value = 150
    assert board.result["residual"].mean() > dim
    board.controls["message"].value = "x" * 100_000  # far beyond the capacity
    assert board.errors and "holds at most" in str(board.errors[-1])
    board.controls["message"].value = "back again"
    assert board.result["revealed"] == "back again"


def test_stego_dashboard_says_it_is_working_while_it_hides(monkeypatch):
    """Key mode takes up to 2 s on a laptop CPU: while the callback runs, the status line says so;
    afterwards it says how long it took (or that it failed)."""
    board = widgets.stego_dashboard()
    seen = []
    real = widgets.stego_demo

    def spy(*args, **kwargs):
        seen.append(board.status.value)
        return real(*args, **kwargs)

    monkeypatch.setattr(widgets, "stego_demo", spy)
    board.controls["message"].value = "a new message"
    assert seen and "working" in seen[-1] and "up to 2 s" in seen[-1]
    assert board.status.value.startswith("<small>done in ") and "working" not in board.status.value
    board.controls["message"].value = "x" * 100_000
    assert "failed" in board.status.value


def test_steganalysis_stegos_are_kept_in_the_cache(monkeypatch, tmp_path):
    """The dashboard's expensive part is made once, kept in the cache folder, read back unchanged
    in a new process (here: with the in-memory cache cleared), and made again if the file is damaged."""
    from helpers.evaluation import harness

    monkeypatch.setenv("INN_STEGO_CACHE", str(tmp_path))
    widgets._steganalysis_sets.cache_clear()
    covers, _, first = widgets._steganalysis_sets(3)
    kept = list((tmp_path / "dashboards").glob("steganalysis-*.npy"))
    assert len(kept) == 1 and not list((tmp_path / "dashboards").glob("*.tmp"))
    real = harness.make_stegos
    monkeypatch.setattr(harness, "make_stegos", lambda *a, **k: pytest.fail("should have been read from the cache"))
    widgets._steganalysis_sets.cache_clear()
    assert widgets._steganalysis_sets(3)[2] == first
    kept[0].write_bytes(b"damaged")
    monkeypatch.setattr(harness, "make_stegos", real)
    widgets._steganalysis_sets.cache_clear()
    assert widgets._steganalysis_sets(3)[2] == first
    widgets._steganalysis_sets.cache_clear()  # later tests build from the real cache folder again


def test_a_broken_dashboard_fails_under_test_and_is_shown_on_screen(monkeypatch):
    """A bug in a callback must fail the notebook cell under nbmake (and a test here); on screen the
    dashboard shows it and stays alive. Errors meant for the audience never raise."""
    monkeypatch.setattr(widgets, "coupling_demo", lambda *a, **k: {}["broken"])
    with pytest.raises(KeyError):  # (in a kernel, where ipywidgets swallows it: "failed on its first draw")
        widgets.coupling_dashboard()
    board = widgets.mapping_dashboard()
    monkeypatch.setattr(widgets, "mapping_demo", lambda *a, **k: {}["broken"])
    with pytest.raises(KeyError):
        board.controls["t"].value = 0.3  # a later callback: raised to the code that moved the control
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # as on screen
    board = widgets.coupling_dashboard()
    assert isinstance(board.errors[0], KeyError) and "failed" in board.status.value


def rendered(board):
    """The dashboard's last rendered figure: its pixels and every text on it (titles, labels, legends)."""
    fig = board.figure
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return np.asarray(fig.canvas.buffer_rgba()).copy(), " | ".join(t for t in texts if t)


# Every control of every dashboard, a new value for it, and what the rendered figure must then say.
MOVES = {
    "coupling_dashboard": [("clamp", 0.5, lambda r: f"log|det J| = {r['log_det']:.1f}"),
                           ("scale", 6.0, lambda r: f"log|det J| = {r['log_det']:.1f}"),
                           ("shift", 8.0, lambda r: f"max error {r['max_error']:.1e}")],
    "mapping_dashboard": [("kind", "all-ones", "all-ones: 100 % ones, flip on"), ("t", 0.6, "threshold t = 0.60"),
                          ("noise", 0.3, "RA"), ("mapping", False, "flip off")],
    "stego_dashboard": [("photo", None, "revealed (key mode"), ("message", "hello class", "'hello class'"),
                        ("bpp", 1, "exact"), ("magnify", 150, "x 150", "residual"), ("mode", "blind", "revealed (blind mode")],
    "steganalysis_dashboard": [("payload", 0.3, "AUC", "estimates"), ("detector", "ws", "ROC, ws", "estimates")],
}  # (a fourth entry: a result the move must change, where the text alone could be right by accident)


@pytest.mark.parametrize("name", list(MOVES))
def test_every_control_changes_the_rendered_figure(name):
    board = getattr(widgets, name)()
    pixels = rendered(board)[0]
    for control, value, expect, *changes in MOVES[name]:
        widget = board.controls[control]
        old = {k: board.result[k] for k in changes}
        if value is None:  # a dropdown: its next option
            value = widget.options[1]
        before = board.figure
        widget.value = value
        assert not board.errors, (control, board.errors)
        assert board.figure is not before, control  # a callback ran and drew
        new_pixels, new_text = rendered(board)
        expect = expect(board.result) if callable(expect) else expect
        assert expect in new_text, (control, new_text)
        assert not np.array_equal(new_pixels, pixels), f"moving {control} left the figure unchanged"
        assert "done in" in board.status.value
        for k in changes:  # a dict of figures, or an image tensor
            same = board.result[k] == old[k] if isinstance(old[k], dict) else np.array_equal(board.result[k], old[k])
            assert not same, (control, k)
        pixels = new_pixels


def test_a_dashboard_leaves_its_first_figure_where_no_kernel_runs(monkeypatch):
    """Displayed, a dashboard outputs the widget's view and its first figure as a PNG in one bundle:
    a live frontend renders the widget, the book and GitHub the picture (issue 18)."""
    import base64
    import io

    from PIL import Image

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    board = widgets.mapping_dashboard()
    first = board.first_png
    board.controls["noise"].value = 0.3  # a later figure does not replace the first picture
    assert board.first_png == first
    board._ipython_display_()
    (data,), kwargs = shown[-1]
    assert kwargs == {"raw": True}
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == board.widget.model_id
    picture = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert picture.width > 300 and picture.height > 100
    assert np.asarray(picture.convert("L")).std() > 10  # a figure, not a blank canvas


def test_the_stego_dashboard_uses_the_network_of_notebook_10s_checkpoint(tmp_path):
    """stego_dashboard(PAPER_CKPT): key mode hides with that network (here the shipped one with its
    last layers scaled down, about 68 dB), not the shipped one (about 42 dB); blind mode keeps its own."""
    import torch

    from helpers.settings import SHIPPED_PAPER

    state = torch.load(SHIPPED_PAPER, weights_only=True)
    for k in [k for k in state["model"] if ".last." in k]:
        state["model"][k] = state["model"][k] * 0.01
    torch.save(state, tmp_path / "better.pt")
    mine, shipped = widgets.stego_demo(checkpoint=tmp_path / "better.pt"), widgets.stego_demo()
    assert mine["exact"] and shipped["exact"] and mine["psnr"] > 60 > 45 > shipped["psnr"]
    blind = widgets.stego_demo(mode="blind", checkpoint=tmp_path / "better.pt")
    assert blind["exact"] and blind["psnr"] == widgets.stego_demo(mode="blind")["psnr"]
