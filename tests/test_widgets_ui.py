"""The explorers as widgets: built, a control moved programmatically, the figure redrawn (no browser)."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib import widgets as W
from cnnlib.widgets.explorers import ERROR_CLASS, EXPLORER_CLASS, _explorer
from cnnlib.widgets.figures import BAD


def parts(explorer):
    """(controls by description, message widget, image widget) of an explorer."""
    row, status, image = explorer.children
    controls = {c.description: c for c in row.children if isinstance(c, widgets.ValueWidget)}
    return controls, status, image


def assert_redraws(explorer, description, value):
    controls, status, image = parts(explorer)
    before = image.value
    controls[description].value = value
    assert image.value != before and image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert ERROR_CLASS not in status._dom_classes
    return status.value


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []          # explorers never leave figures in pyplot


def test_every_explorer_is_a_tagged_box_with_a_png():
    for make in (W.conv_arithmetic_explorer, W.filter_explorer, W.activation_explorer, W.pooling_explorer,
                 W.optimizer_explorer):
        box = make()
        assert isinstance(box, widgets.VBox) and EXPLORER_CLASS in box._dom_classes
        _, _, image = parts(box)
        assert image.format == "png" and image.value[:4] == b"\x89PNG"


def test_text_form_names_the_explorer():
    box = W.pooling_explorer()
    text = "pooling_explorer: an interactive explorer (run this cell in Jupyter to use it)"
    assert repr(box) == text
    assert box._repr_mimebundle_()["text/plain"] == text     # what a saved notebook shows


def test_output_holds_a_picture_of_the_default_state_for_the_site_and_the_decks():
    """Where widgets cannot run, the stored output still shows the explorer as it opened (issue 27)."""
    import base64

    box = W.conv_arithmetic_explorer()
    _, _, image = parts(box)
    opened = image.value
    bundle = box._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == opened
    assert "application/vnd.jupyter.widget-view+json" in bundle      # JupyterLab still gets the live widget
    parts(box)[0]["stride S"].value = 3                            # moving a slider redraws the live figure,
    assert base64.b64decode(box._repr_mimebundle_()["image/png"]) == opened   # not the stored picture


def test_conv_arithmetic_explorer_fits_then_doesnt_then_fixes():
    box = W.conv_arithmetic_explorer()
    controls, status, _ = parts(box)
    assert "fits: the output is 3 × 3" in status.value
    message = assert_redraws(box, "stride S", 3)
    assert "doesn&#x27;t fit" in message and "P = 1" in message
    fix = box.children[0].children[-1]
    assert isinstance(fix, widgets.Button) and not fix.disabled
    fix.click()
    assert controls["padding P"].value == 1
    assert "fits: the output is 3 × 3" in status.value and fix.disabled


def test_filter_explorer_switches_filters_and_disables_sigma():
    box = W.filter_explorer()
    controls, status, _ = parts(box)
    assert "256×256 photograph with a 5×5 kernel" in status.value
    assert_redraws(box, "σ (Gaussian)", 2.0)
    assert_redraws(box, "filter", "edge_x")
    assert controls["σ (Gaussian)"].disabled
    assert "7×7 kernel" in assert_redraws(box, "size", 7)


def test_filter_explorer_takes_any_image():
    rng = np.random.default_rng(0)
    box = W.filter_explorer(rng.integers(0, 256, size=(40, 60, 3), dtype=np.uint8))
    assert "40×60 photograph" in parts(box)[1].value


def test_activation_explorer_parameters():
    box = W.activation_explorer()
    controls, status, _ = parts(box)
    assert "largest slope f′ on [-5, 5]: 0.250" in status.value
    assert controls["negative_slope (leaky ReLU)"].disabled and controls["α (ELU)"].disabled
    assert "max(x, 0.1·x)" in assert_redraws(box, "activation", "leaky_relu")
    assert "max(x, 0.3·x)" in assert_redraws(box, "negative_slope (leaky ReLU)", 0.3)
    assert_redraws(box, "activation", "elu")
    assert not controls["α (ELU)"].disabled
    assert "2·(e^x − 1)" in assert_redraws(box, "α (ELU)", 2.0)


def test_pooling_explorer_reports_unpooled_rows():
    box = W.pooling_explorer()
    _, status, _ = parts(box)
    assert "8×8 → 4×4" in status.value
    message = assert_redraws(box, "window K", 3)
    assert "8×8 → 3×3" in message and "the last 1 row(s)/column(s) are never pooled" in message
    assert_redraws(box, "pooling", "avg")
    with pytest.raises(ValueError, match="activation_map must be a 2-D array"):
        W.pooling_explorer(np.zeros(5))


def test_optimizer_explorer_redraws_on_every_hyperparameter():
    box = W.optimizer_explorer()
    assert "loss after 50 steps" in parts(box)[1].value
    for description, value in (("lr", 0.01), ("momentum", 0.5), ("β₁", 0.8), ("β₂", 0.99), ("steps", 20)):
        assert_redraws(box, description, value)
    assert "loss after 20 steps" in parts(box)[1].value
    message = assert_redraws(box, "lr", 1.5)               # too large for SGD across the ravine
    assert "SGD diverged" in message and BAD in message    # shown in red
    assert_redraws(box, "surface", "bowl")


def test_an_error_in_drawing_is_shown_not_lost():
    slider = widgets.IntSlider(value=1, min=0, max=2, description="k")

    def render(k):
        if k == 0:
            raise ValueError("k must be positive")
        return Figure(), "ok"

    box = _explorer({"k": slider}, render)
    status = box.children[1]
    assert status.value == "ok"
    slider.value = 0
    assert "ValueError: k must be positive" in status.value and ERROR_CLASS in status._dom_classes
    slider.value = 2
    assert status.value == "ok" and ERROR_CLASS not in status._dom_classes


def test_figures_are_freed_after_each_redraw(monkeypatch):
    """Moving a slider many times leaves no figure alive: each one is garbage once its PNG is made."""
    import gc
    import weakref

    from cnnlib.widgets import figures

    made, real_png = [], figures.figure_png

    def png_and_remember(fig):
        made.append(weakref.ref(fig))
        return real_png(fig)

    monkeypatch.setattr(figures, "figure_png", png_and_remember)
    box = W.conv_arithmetic_explorer()
    controls, _, _ = parts(box)
    for n in range(5, 15):
        controls["input size N"].value = n
    gc.collect()
    assert len(made) == 11 and all(ref() is None for ref in made)
