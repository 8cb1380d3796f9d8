"""--format tex: results.tex, the comparison as a booktabs table (pandas' Styler)."""

import re

from lenet_lab.aggregate import main
from tests.test_aggregate import fake_job


def test_results_tex_is_a_booktabs_table_of_the_groups(tmp_path):
    for k, (model, accuracies) in enumerate([("a_1", (0.90, 0.92, 0.94)), ("b", (0.97, 0.98, 0.99))]):
        for seed, accuracy in enumerate(accuracies, 1):
            fake_job(tmp_path / f"{k}{seed}_model={model},seed={seed}", [f"model={model}", f"seed={seed}"], [accuracy], accuracy)
    assert main([str(tmp_path), "--format", "tex", "--no-plots"]) == 0
    tex = (tmp_path / "results.tex").read_text()
    assert not (tmp_path / "results.md").exists() and not (tmp_path / "report.html").exists()  # only what was asked for
    for command in (r"\begin{table}", r"\toprule", r"\midrule", r"\bottomrule", r"\caption{", r"\label{tab:results}"):
        assert command in tex
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    assert len(body) == 2  # a line per group
    assert body[0].startswith(r"\bfseries b &") and r"\bfseries 98.00 $\pm$ 2.48" in body[0]  # the best group, in bold; t(0.975, 2) * 1/sqrt(3)
    assert body[1].startswith(r"a\_1 &") and "bfseries" not in body[1]  # LaTeX's specials escaped
    assert "reference" in body[0] and "verdict" in tex
    header = tex.split(r"\toprule")[1].split(r"\midrule")[0]
    assert r"test/acc (\%)" in header and r"train\_time\_s" in header
    assert tex.startswith("% ") and not re.findall(r"(?<!\\)[%_]", tex.split("\n", 1)[1])  # below the comment line, every % and _ escaped


def test_text_is_escaped_in_one_pass():
    from lenet_lab.reports.latex import escape

    assert escape(r"a\b_{c} 5% p<0.05 Δ ±") == r"a\textbackslash{}b\_\{c\} 5\% p$<$0.05 $\Delta$ $\pm$"  # the braces it adds stay braces
