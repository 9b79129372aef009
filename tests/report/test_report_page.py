"""The HTML report: self-contained, escaped, and working in a real headless Chromium."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from captioner.report.html_report import render_report
from captioner.report.report_file import write_report
from tests.support.browser import console_errors, start_browser

pytestmark = pytest.mark.backend_independent  # renders JSON; evaluate per backend: test_cli_model

HOSTILE_NAME = "<img src=x onerror=\"document.title='pwned'\">.jpg"
HOSTILE_REF = "<script>document.title='pwned';window.pwned=1</script> a dog"
HOSTILE_CAPTION = "a cat </td></tr><img src=x onerror=\"window.pwned=2\">"


def items(tmp_path, count=7):
    """`count` report rows over real small JPEGs; row 3 carries hostile text in its name, caption and reference."""
    rows = []
    for i in range(count):
        path = tmp_path / f"img{i}.jpg"
        Image.fromarray(np.full((40, 60, 3), 30 * i, np.uint8)).save(path)
        rows.append({"input": f"img{i}.jpg", "path": str(path), "caption": f"caption number {i}",
                     "references": [f"reference {i} a", "a zebra" if i == 5 else f"reference {i} b"],
                     "bleu4": round(0.1 * ((i * 3) % 7), 4), "cider": round(0.3 * ((i * 5) % 7), 4),
                     "rouge_l": 0.5, "meteor": 0.2})
    rows[3].update(input=HOSTILE_NAME, caption=HOSTILE_CAPTION, references=[HOSTILE_REF])
    return rows


def evaluation(tmp_path, count=7):
    history = [{"epoch": e, "loss": 3.0 / e, "val_loss": 3.2 / e, "val_bleu4": 0.1 * e, "seconds": 1.0}
               for e in range(1, 6)]
    return {"bleu1": 0.7, "bleu2": 0.5, "bleu3": 0.3, "bleu4": 0.2, "meteor": 0.25, "rouge_l": 0.5, "cider": 0.9,
            "split": "test", "beam_size": 3, "frames": 0, "encoder_weights": "random", "model": "<b>model</b>",
            "training": {"history": history, "best_epoch": 5}, "captions": items(tmp_path, count)}


def test_page_is_self_contained_and_escapes_every_text(tmp_path):
    page = tmp_path / "r.html"
    write_report(str(page), evaluation(tmp_path))
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 1 and "<script>document" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;" in html and "&lt;b&gt;model&lt;/b&gt;" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing loaded from anywhere: works offline
    assert "default-src 'none'" in html  # and the page's policy would block it anyway
    assert html.count('<img src="data:image/jpeg;base64,') == 7  # one thumbnail per image
    assert html.count("<polyline") == 3  # loss, val_loss, val_bleu4 (this history has no val_bleu1)


def test_a_self_critical_models_page_plots_its_reward_and_validation_cider(tmp_path):
    data = evaluation(tmp_path, 4)
    data["training"].update(objective="cider", scst_best_epoch=2, scst_history=[
        {"epoch": 1, "reward": 0.8, "baseline": 0.79, "val_cider": 0.9},
        {"epoch": 2, "reward": 0.95, "baseline": 0.93, "val_cider": 1.1}])
    html = render_report(data, {it["input"]: [] for it in data["captions"]})
    assert html.count("<polyline") == 3 + 3  # the cross-entropy curves, then reward, baseline, val CIDEr-D
    assert "self-critical: validation CIDEr-D" in html and "best self-critical epoch 2" in html
    assert "where self-critical training started" in html


def test_rows_start_worst_first_and_a_missing_file_shows_no_preview(tmp_path):
    data = evaluation(tmp_path, 4)
    data["captions"][0]["path"] = str(tmp_path / "gone.jpg")
    html = render_report(data, {it["input"]: [] for it in data["captions"]})
    ciders = [float(x) for x in re.findall(r'data-cider="([0-9.]+)"', html)]
    assert ciders == sorted(ciders) and "no preview" in html


@pytest.fixture(scope="module")
def browser():
    driver = start_browser()
    yield driver
    driver.quit()


def rows(driver):
    return driver.find_elements("css selector", "#items tbody tr")


def visible_names(driver):
    return [r.get_attribute("data-name") for r in rows(driver) if r.is_displayed()]


@pytest.mark.slow
def test_report_in_chromium_sorts_filters_and_keeps_hostile_text_as_text(browser, tmp_path):
    data = evaluation(tmp_path)
    page = tmp_path / "r.html"
    write_report(str(page), data)
    browser.get(page.as_uri())
    assert console_errors(browser) == []
    assert len(rows(browser)) == 7
    cider = {it["input"]: it["cider"] for it in data["captions"]}
    shown = [cider[n] for n in visible_names(browser)]
    assert shown == sorted(shown)  # worst CIDEr-D first by default

    browser.find_element("css selector", 'th button[data-key="cider"]').click()  # again: best first
    shown = [cider[n] for n in visible_names(browser)]
    assert shown == sorted(shown, reverse=True)
    browser.find_element("css selector", 'th button[data-key="bleu4"]').click()
    bleu = {it["input"]: it["bleu4"] for it in data["captions"]}
    shown = [bleu[n] for n in visible_names(browser)]
    assert shown == sorted(shown)
    browser.find_element("css selector", 'th button[data-key="name"]').click()
    assert visible_names(browser) == sorted(cider)

    box = browser.find_element("id", "filter")
    box.send_keys("zebra")  # a word of one reference only
    assert visible_names(browser) == ["img5.jpg"]
    assert browser.find_element("id", "shown").text == "1 of 7 shown"
    box.clear()
    box.send_keys("<script>")  # hostile text is text: it can be searched for
    assert visible_names(browser) == [HOSTILE_NAME]

    assert browser.title.startswith("captioner report") and browser.execute_script("return window.pwned") is None
    hostile = [r for r in rows(browser) if r.get_attribute("data-name") == HOSTILE_NAME][0]
    assert HOSTILE_REF in hostile.text and HOSTILE_NAME in hostile.text and "</td></tr><img" in hostile.text
    assert len(browser.find_elements("css selector", "#items img")) == 7  # thumbnails only, nothing injected
    assert len(browser.find_elements("css selector", "svg.plot")) == 2
    assert console_errors(browser) == []


@pytest.mark.slow
def test_evaluate_and_caption_folder_pages_show_one_row_per_image(browser, trained, synthetic, run_cli, tmp_path):
    model, cache = trained / "model", trained / "cache"
    code, out, _ = run_cli("evaluate", "--model", model, "--captions", synthetic / "captions.token.txt",
                           "--images", synthetic / "Images", "--cache", cache, "--split", "all", "--beam-size", "1",
                           "--html", tmp_path / "eval.html", "--json", tmp_path / "eval.json", "--no-meteor", "--quiet")
    assert code == 0 and f"wrote {tmp_path / 'eval.html'}" in out
    report = json.loads((tmp_path / "eval.json").read_text())
    browser.get((tmp_path / "eval.html").as_uri())
    assert console_errors(browser) == []
    assert len(rows(browser)) == report["images"] == 20
    assert len(browser.find_elements("css selector", "#items img")) == 20
    assert "RANDOM" in browser.find_element("css selector", ".warn").text
    metrics = browser.find_element("css selector", "table.metrics").text
    assert "CIDEr-D" in metrics and "ROUGE-L" in metrics and "METEOR" not in metrics
    assert "METEOR skipped" in browser.page_source
    assert len(browser.find_elements("css selector", "svg.plot")) == 2  # the bundle's training curves

    folder = synthetic / "Images"
    code, out, _ = run_cli("caption-folder", "--model", model, folder, "--out", tmp_path / "c.jsonl",
                           "--html", tmp_path / "c.html", "--beam-size", "1", "--quiet")
    assert code == 0
    browser.get((tmp_path / "c.html").as_uri())
    assert console_errors(browser) == []
    captions = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert visible_names(browser) == sorted(r["input"] for r in captions)
    assert [r.find_element("css selector", "td.caption").text for r in rows(browser)] == \
        [r["caption"] for r in sorted(captions, key=lambda r: r["input"])]


def test_a_report_path_that_is_not_html_is_refused_before_any_work(trained, synthetic, run_cli, tmp_path):
    code, _, err = run_cli("evaluate", "--model", trained / "model", "--captions", synthetic / "captions.token.txt",
                           "--images", synthetic / "Images", "--cache", trained / "cache", "--html", tmp_path / "r.txt")
    assert code == 2 and "r.txt: a report is an .html file" in err
    (tmp_path / "taken").write_text("a file where the folder would go")
    code, _, err = run_cli("caption-folder", "--model", trained / "model", synthetic / "Images", "--out",
                           tmp_path / "c.jsonl", "--html", tmp_path / "taken" / "r.html")
    assert code == 2 and f"r.html: cannot make its folder {tmp_path / 'taken'} (" in err
    assert not (tmp_path / "c.jsonl").exists()  # refused before any work


def test_written_files_get_the_usual_permissions_not_mkstemps_0600(tmp_path):
    import os

    from captioner.base.atomic import write_text

    write_text(str(tmp_path / "page.html"), "<p>hi</p>")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "page.html").stat().st_mode & 0o777 == 0o666 & ~mask
