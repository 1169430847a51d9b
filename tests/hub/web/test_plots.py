"""The console's server-drawn plots: accessible SVG whose text from models and journals is escaped."""

from __future__ import annotations

from lxml import etree

from hub.web.plots import Mark, bars, histogram, time_series

SVG = "{http://www.w3.org/2000/svg}"


def test_each_plot_is_an_image_named_and_described_with_a_tooltip_on_every_mark() -> None:
    marks = [Mark("2026-12-01", 3, "2026-12-01: 3 started"), Mark("2026-12-02", 0, "2026-12-02: 0 started")]
    for plot, kind, shape in ((time_series("Started", marks, x_label="day", y_label="instances"), "time-series",
                               "circle"), (histogram("Spread", marks, x_label="t", y_label="n"), "histogram", "rect"),
                              (bars("Time", marks), "bars", "rect")):
        root = etree.fromstring(str(plot).encode())
        assert (root.get("role"), root.get("data-plot")) == ("img", kind)
        title_id, desc_id = root.get("aria-labelledby").split()
        assert root.find(f"{SVG}title").get("id") == title_id and root.find(f"{SVG}desc").get("id") == desc_id
        assert "2026-12-01: 3 started" in root.find(f"{SVG}desc").text
        tips = [m.find(f"{SVG}title").text for m in root.iter(f"{SVG}{shape}")]
        assert tips == [m.tip for m in marks]


def test_text_from_a_model_is_escaped_and_an_empty_plot_says_so() -> None:
    hostile = Mark("<script>alert(1)</script>", 1, "<img src=x onerror=alert(2)>")
    drawn = str(bars("<b>Time</b>", [hostile]))
    assert "<script>" not in drawn and "<img" not in drawn and "<b>" not in drawn
    assert "&lt;script&gt;" in drawn
    assert "No element took any time yet." in str(bars("Time", []))
