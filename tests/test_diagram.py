"""`diagram` (issue 19, part): the SVG holds the right labels, every text stays inside its box and the frame, the
differing blocks are marked, and every built-in model draws; rendered with cairosvg where it is installed (CI's
cross-check step), no text's ink leaves its box or the frame; --export
.png or .pdf draws the same shapes through the optional matplotlib extra, its text (as matplotlib measures it)
inside its boxes too."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.present.diagram import diagram
from llmcalc.render.diagram import CHAR, layout, to_svg

NS = "{http://www.w3.org/2000/svg}"


def svg_of(*names: str) -> str:
    return to_svg(diagram([llmcalc.count_params(n) for n in names], list(names)))


def check_geometry(svg: str) -> ET.Element:
    """Every box's texts inside the box, every element inside the frame."""
    root = ET.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    rects = [r for r in root.iter(NS + "rect") if r.get("x")]
    boxes = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in rects if r.get("class") != "group"]
    for r in rects:
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
    for text in root.iter(NS + "text"):
        x, y = float(text.get("x")), float(text.get("y"))
        right = x + len(text.text) * CHAR * (14 / 12 if text.get("font-size") == "14" else 1)
        assert right <= width and y <= height, text.text
        inside = [b for b in boxes if b[0] <= x and right <= b[0] + b[2] and b[1] <= y <= b[1] + b[3]]
        assert inside or text.get("font-weight") == "bold" and not any(b[1] <= y <= b[1] + b[3] for b in boxes), \
            text.text
    return root


def test_gpt2_and_llama3_side_by_side():
    svg = svg_of("gpt2-small", "llama3-8b")
    root = check_geometry(svg)
    texts = [t.text for t in root.iter(NS + "text")]
    for label in ("12 x layer", "32 x layer", "attention (MHA)", "attention (GQA)", "32 heads / 8 KV heads / d_head 128",
                  "MLP: SwiGLU, 3 matrices", "MLP: GELU (tanh), 2 matrices", "LM head (tied to the embedding)",
                  "total 124.44M parameters", "total 8.03B parameters", "+ learned positions 1,024 x 768"):
        assert label in texts, label
    marked = [r for r in root.iter(NS + "rect") if r.get("class") == "differs"]
    assert len(marked) >= 6  # llama3-8b's embedding, layers, norms, attention, MLP, final norm, head
    assert len([r for r in root.iter(NS + "rect") if r.get("class") == "group"]) == 2


def test_every_built_in_model_draws_inside_its_frame():
    for name in llmcalc.builtin_names():
        root = check_geometry(svg_of(name))
        assert any(t.text.startswith("total ") for t in root.iter(NS + "text")), name


def test_moe_and_groups():
    root = check_geometry(svg_of("deepseek-v3"))
    texts = [t.text for t in root.iter(NS + "text")]
    assert "3 x dense" in texts and "58 x moe" in texts and "experts: top-8 of 256 + 1 shared" in texts


def test_cli_writes_the_file(tmp_path):
    path = tmp_path / "d.svg"
    result = CliRunner().invoke(cli, ["diagram", "gpt2-small", "llama3-8b", "--export", str(path)])
    assert result.exit_code == 0 and "wrote" in result.stderr
    check_geometry(path.read_text())
    bad = CliRunner().invoke(cli, ["diagram", "gpt2-small", "--export", "d.jpg"])
    assert bad.exit_code == 2 and bad.stderr == "error: --export d.jpg: the file must end in .png, .svg, .pdf\n"


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
def test_cli_draws_an_image(tmp_path, suffix, magic):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"d{suffix}"
    result = CliRunner().invoke(cli, ["diagram", "gpt2-small", "llama3-8b", "--export", str(path)])
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == f"wrote {path}\n"
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 10_000
    if suffix == ".png":
        from matplotlib.image import imread

        width, height, _ = layout(diagram([llmcalc.count_params(n) for n in ("gpt2-small", "llama3-8b")],
                                          ["gpt2-small", "llama3-8b"]))
        pixels = imread(path)
        assert pixels.shape[:2] == (round(2 * height), round(2 * width))  # one SVG unit is two pixels
        assert (pixels[..., :3] < 0.5).any() and (pixels[..., :3] == 1).mean() > 0.5  # ink on white


@pytest.mark.parametrize("names", [("gpt2-small", "llama3-8b"), ("deepseek-v3", "switch-base-128"),
                                   ("gemma2-9b", "llama4-maverick")])
def test_image_text_stays_inside_its_boxes(names):
    """The image draws the SVG's shapes: every text, measured by matplotlib's own renderer in DejaVu Sans Mono,
    ends inside the box it starts in (the boxes were sized for a 0.6 em advance)."""
    pytest.importorskip("matplotlib")
    from matplotlib import pyplot

    from llmcalc.render.plot import diagram_figure

    drawn = diagram([llmcalc.count_params(n) for n in names], list(names))
    width, height, shapes = layout(drawn)
    boxes = [shape[1:5] for shape in shapes if shape[0] == "rect" and shape[-1] != "group"]
    figure = diagram_figure(drawn)
    try:
        axes = figure.axes[0]
        renderer = figure.canvas.get_renderer()
        to_data = axes.transData.inverted()
        assert len(axes.texts) == sum(shape[0] == "text" for shape in shapes)
        assert len(axes.patches) == sum(shape[0] == "rect" for shape in shapes)
        for text in axes.texts:
            (left, bottom), (right, top) = to_data.transform(text.get_window_extent(renderer).get_points())
            assert 0 <= left and right <= width and 0 <= top and bottom <= height, text.get_text()
            x, y = text.get_position()
            home = [b for b in boxes if b[0] <= x <= b[0] + b[2] and b[1] <= y <= b[1] + b[3]]
            assert all(right <= b[0] + b[2] and b[1] <= top for b in home), text.get_text()
    finally:
        pyplot.close(figure)


def test_an_image_without_the_extra_is_one_line_and_svg_needs_none(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: import raises ImportError
    path = tmp_path / "d.png"
    result = CliRunner().invoke(cli, ["diagram", "gpt2-small", "--export", str(path)])
    assert result.exit_code == 2 and result.stdout == "" and not path.exists()
    assert result.stderr == (f"error: --export {path} needs matplotlib, the optional plot extra: pip install "
                             "'llmcalc[plot]' (an .svg needs nothing)\n")
    result = CliRunner().invoke(cli, ["diagram", "gpt2-small", "--export", str(tmp_path / "d.svg")])
    assert result.exit_code == 0 and check_geometry((tmp_path / "d.svg").read_text())


def rendered(root: ET.Element, scale: int) -> "numpy.ndarray":
    """The SVG as cairosvg draws it (real fonts), grey levels, `scale` pixels per unit."""
    import io

    import numpy
    from PIL import Image

    cairosvg = pytest.importorskip("cairosvg")
    png = cairosvg.svg2png(bytestring=ET.tostring(root), scale=scale)
    return numpy.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=int)


def ink_outside_its_place(svg: str, scale: int = 2) -> list[str]:
    """Draw the diagram with its texts and without them on a canvas 200 units wider and taller than its frame, and
    return the texts whose ink (what the texts add to the picture) falls outside their box (for a text in a box) or
    outside the frame (for a free text such as a title): what a reader would see spill over."""
    import numpy

    root = ET.fromstring(svg)
    ET.register_namespace("", NS[1:-1])
    width, height = float(root.get("width")), float(root.get("height"))
    root.set("width", str(width + 200))
    root.set("height", str(height + 200))
    root.set("viewBox", f"0 0 {width + 200} {height + 200}")
    boxes = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in root.iter(NS + "rect")
             if r.get("x") and r.get("class") != "group"]
    texts = list(root.iter(NS + "text"))
    places = []
    for text in texts:
        x, y = float(text.get("x")), float(text.get("y"))
        box = next((b for b in boxes if b[0] <= x <= b[0] + b[2] and b[1] <= y <= b[1] + b[3]), None)
        places.append(box or (0.0, 0.0, width, height))
    full = rendered(root, scale)
    for parent in [root, *root.iter()]:
        for child in [c for c in parent if c.tag == NS + "text"]:
            parent.remove(child)
    ink = (full != rendered(root, scale))
    allowed = numpy.zeros_like(ink, dtype=bool)
    for x, y, w, h in set(places):
        allowed[int(y * scale):int((y + h) * scale) + 1, int(x * scale):int((x + w) * scale) + 1] = True
    spilled = ink & ~allowed
    if not spilled.any():
        return []
    rows, cols = spilled.nonzero()
    return [t.text for t, (x, y, w, h) in zip(texts, places)
            if ((cols >= x * scale) & (rows >= (y - 16) * scale) & (rows <= (float(t.get("y")) + 6) * scale)).any()
            and (y <= float(t.get("y")) <= y + h)]


def test_renders_with_every_text_inside_its_box_as_drawn(tmp_path):
    # as a reader sees it: cairosvg draws each diagram with the fonts it names, and no text's ink leaves its box or
    # the frame (the geometry checks above estimate the text widths; this measures them)
    pytest.importorskip("cairosvg")
    pytest.importorskip("PIL")
    assert ink_outside_its_place(svg_of("gpt2-small", "llama3-8b")) == []
    for name in llmcalc.builtin_names():
        assert ink_outside_its_place(svg_of(name), scale=1) == [], name


def test_the_rendering_check_sees_a_spilling_text():
    pytest.importorskip("cairosvg")
    pytest.importorskip("PIL")
    svg = svg_of("gpt2-small").replace(">LayerNorm</text>", ">LayerNorm, with a label far too long for its box</text>", 1)
    assert ink_outside_its_place(svg) == ["LayerNorm, with a label far too long for its box"]


def test_the_readme_image_is_current():
    from pathlib import Path

    committed = Path(__file__).parent.parent / "docs" / "diagram-gpt2-small-llama3-8b.svg"
    assert committed.read_text(encoding="utf-8") == svg_of("gpt2-small", "llama3-8b"), \
        "regenerate: llmcalc diagram gpt2-small llama3-8b --export docs/diagram-gpt2-small-llama3-8b.svg"


def test_a_vision_language_model_draws_its_tower_and_projector(tmp_path):
    """LLaVA's (and Qwen2.5-VL's) vision tower and projector are boxes above the token embedding, inside the frame
    (and, rendered where cairosvg is, their ink inside their boxes)."""
    for model_type, needle in (("llava", "patches 14 x 14, 16 heads"), ("qwen2_5_vl", "2 x 2 patches merged")):
        path = tmp_path / f"{model_type}.json"
        path.write_text('{"model_type": "%s"}' % model_type)
        svg = svg_of(str(path))
        root = check_geometry(svg)
        texts = [t.text for t in root.iter(NS + "text")]
        assert texts.index(next(t for t in texts if t.startswith("vision tower"))) < texts.index(
            next(t for t in texts if t.startswith("token embedding")))
        assert needle in svg and "projector to width" in svg
        try:
            import cairosvg  # noqa: F401
            import PIL  # noqa: F401
        except ImportError:
            continue
        assert ink_outside_its_place(svg, scale=1) == []
