"""report.html: one self-contained page per sweep, read as text and opened in headless Chromium."""

import re

import numpy as np
import pytest
import torch

from lenet_lab.aggregate import main
from lenet_lab.evaluation.job_evaluation import evaluate_predictions
from tests.headless_chromium import Browser, find_chromium
from tests.test_aggregate import fake_job, fake_row_job

GROUPS = ("a", "b", "c")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """model in {a, b, c} x seeds, evaluated on 200 made-up test digits; one job failed, aggregated by the command."""
    root = tmp_path_factory.mktemp("sweep")
    generator = torch.Generator().manual_seed(0)
    for k, (model, seed) in enumerate([(m, s) for m in GROUPS for s in (1, 2)]):
        job = fake_job(root / f"{k}_model={model},seed={seed}", [f"model={model}", f"seed={seed}"], [0.8, 0.85 + 0.01 * k], 0.9 + 0.01 * k)
        labels = torch.arange(200) % 10
        scores = torch.randn(200, 10, generator=generator) + 4 * torch.nn.functional.one_hot(labels, 10)
        evaluate_predictions(job, torch.rand(200, 1, 28, 28, generator=generator), labels, scores)
    fake_job(root / "6_model=c,seed=3", ["model=c", "seed=3"], [0.5], None, status="failed")
    assert main([str(root), "--format", "csv", "md", "html"]) == 0
    return root / "report.html"


def test_the_page_holds_every_section_and_links_nothing(report):
    page = report.read_text()
    for anchor in ("comparison", "figures", "problems", "jobs", "provenance"):
        assert f'id="{anchor}"' in page
    links = re.findall(r'(?:src|href)=["\']?([^"\' >]+)', page)
    assert links and all(link.startswith(("data:", "#")) for link in links), [x[:40] for x in links if not x.startswith(("data:", "#"))]
    assert "<svg" in page and page.count('<details class="job">') == 7  # every job, failed ones too
    assert "RuntimeError: boom" in page  # the failed job's reason
    assert "expected calibration error" in page and "reliability by group" in page
    assert report.stat().st_size < 2_000_000


def test_a_sweep_ends_with_the_page_by_default_figures_and_pictures_as_far_as_asked(tmp_path, monkeypatch):
    from lenet_lab.reports.html import report

    job = fake_job(tmp_path / "0_model=a", ["model=a"], [0.8], 0.8)
    evaluate_predictions(job, torch.rand(20, 1, 28, 28), torch.arange(20) % 10, torch.randn(20, 10))
    monkeypatch.setattr(report, "PICTURED_JOBS", 0)  # a search of thousands of jobs: numbers, no pictures
    assert main([str(tmp_path), "--no-plots"]) == 0
    page = (tmp_path / "report.html").read_text()
    assert 'id="jobs"' in page and 'id="figures"' not in page and "<img" not in page and "<svg" not in page
    assert "figures of the first 0 jobs only" in page


def test_a_sweep_file_gets_its_published_rows_on_the_page(tmp_path):
    rows = {"sgd": {"overrides": ["optimizer=sgd"], "published": {"test/acc": 88.0}}, "adam": {"overrides": ["optimizer=adam"], "published": {"test/acc": 97.0}}}
    fake_row_job(tmp_path / "0_sgd", "sgd", ["optimizer=sgd", "seed=1"], (0.80, 0.85, 0.90), rows)
    fake_row_job(tmp_path / "1_adam", "adam", ["optimizer=adam", "seed=1"], (0.96, 0.97, 0.98), rows)
    assert main([str(tmp_path), "--format", "html", "--no-plots"]) == 0
    page = (tmp_path / "report.html").read_text()
    published = page.split('id="published"')[1].split("</section>")[0]
    assert "section 9" in published and published.count("<tr>") == 3  # the header and a line per row
    assert '<table class="sortable">' in published


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("no chromium (apt-get install chromium): report.html not opened in a browser")
    opened = Browser(executable)
    yield opened
    opened.close()


def test_the_page_renders_offline_in_chromium_and_sorts(browser, report):  # the browser first: without one, skipped before the sweep is built
    browser.open(report)
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true); 0")
    problems = [e for e in browser.events if e["method"] in ("Runtime.exceptionThrown",)]
    problems += [e for e in browser.events if e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")]
    problems += [e for e in browser.events if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
    assert not problems, problems
    requested = [e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"]
    assert [url for url in requested if not url.startswith("data:")] == [report.resolve().as_uri()]  # the page itself, nothing else

    rows = "Array.from(document.querySelectorAll('#comparison table tbody tr')).map(r => r.cells[0].textContent.trim())"
    assert sorted(browser.evaluate(rows)) == sorted(GROUPS)  # one row per group
    sizes = browser.evaluate("Array.from(document.querySelectorAll('img, svg')).map(e => { const r = e.getBoundingClientRect(); return [e.tagName, r.width, r.height, e.naturalWidth ?? 1]; })")
    assert len(sizes) >= 4 + 6 * 2 and all(w > 0 and h > 0 and natural > 0 for _, w, h, natural in sizes), sizes

    before = browser.evaluate(rows)
    column = browser.evaluate("Array.from(document.querySelectorAll('#comparison table thead th')).findIndex(th => th.textContent.startsWith('test/acc'))")
    header = f"#comparison table thead th:nth-child({column + 1})"
    values = f"Array.from(document.querySelectorAll('#comparison table tbody tr')).map(r => parseFloat(r.cells[{column}].textContent))"
    browser.click(header)
    ascending = browser.evaluate(values)
    assert ascending == sorted(ascending) and browser.evaluate(rows) != before  # ranked best first before: now reversed
    browser.click(header)
    assert browser.evaluate(values) == sorted(ascending, reverse=True)
    assert np.isfinite(ascending).all()


def test_the_command_comes_from_hydras_multirun_record(tmp_path):
    import yaml

    from lenet_lab.reports.html.provenance import sweep_command

    assert sweep_command(tmp_path) is None
    record = {"hydra": {"job": {"name": "run"}, "overrides": {"hydra": ["hydra.mode=MULTIRUN", "hydra.sweep.dir=out dir"], "task": ["model=lenet,mlp", "seed=1,2"]}}}
    (tmp_path / "multirun.yaml").write_text(yaml.safe_dump(record))
    assert sweep_command(tmp_path) == "python run.py -m 'hydra.sweep.dir=out dir' model=lenet,mlp seed=1,2"
