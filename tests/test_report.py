"""The cohort report and the study page: sections, embedded figures, no external resources, privacy, languages."""

from __future__ import annotations

import base64
import json
import re
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from attachment_pipeline.report import figures as fg
from attachment_pipeline import report as rp
from attachment_pipeline.classify import STYLE_LABELS
from attachment_pipeline.config import Classification, Factors, Irt, Reliability, load_study
from attachment_pipeline.report.i18n import STRINGS, Translator
from attachment_pipeline.instruments import INSTRUMENT_DIR, load_instrument
from attachment_pipeline.tables import read_scores
from attachment_pipeline.steps import (IRT_OUTPUTS, classify_cohort, factors_cohort, irt_cohort, minmax_by_style_table,
                                       reliability_cohort, score_cohort)
from helpers import REPO, make_responses, study_for

SECTION_IDS = ["overview", "methods", "quality", "items", "reliability", "factors", "irt", "dimensions", "styles", "couples",
               "hypotheses", "provenance"]
RUN_TIME = "2026-01-01 12:00 UTC"


def run_steps(cohort, study, out: Path, *, factors: bool = True, classify: bool = True, irt: bool = True) -> Path:
    """The pipeline's steps for one cohort, with fast settings (few bootstrap and parallel-analysis draws, no DIF)."""
    score_cohort(cohort, study.scoring, {"validation": out / "qc/validation.json", "missingness": out / "qc/missingness.csv",
                                         "keyed_items": out / "items.csv", "scores": out / "scores.csv"})
    reliability_cohort(cohort, Reliability(n_boot=20), 1, out / "items.csv", out / "scores.csv",
                       {"reliability": out / "reliability.csv", "item_stats": out / "item_stats.csv"})
    if factors and cohort.dimension_instruments:
        names = {"factorability": "factorability", "parallel": "parallel_analysis", "efa_loadings": "efa_loadings",
                 "efa_fit": "efa_fit", "cfa_fit": "cfa_fit", "cfa_loadings": "cfa_loadings",
                 "cfa_thresholds": "cfa_thresholds"}
        factors_cohort(cohort, Factors(parallel_iterations=10), 1, out / "items.csv",
                       {k: out / f"{v}.csv" for k, v in names.items()})
    if classify and cohort.dimension_instruments:
        names = {"classification": "classification", "counts": "style_counts", "agreement": "classification_agreement",
                 "coverage": "classification_coverage", "gmm_profiles": "gmm_profiles", "gmm_bic": "gmm_bic"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the mixture may choose other than four profiles
            classify_cohort(cohort, Classification(), 1, out / "scores.csv", {k: out / f"{v}.csv" for k, v in names.items()})
        if any(i.kind == "minmax" for i in cohort.instruments):
            minmax_by_style_table(out / "classification.csv", out / "scores.csv", out / "minmax_by_style.csv")
    if irt and cohort.dimension_instruments:
        irt_cohort(cohort, Irt(dif=False), out / "items.csv", out / "scores.csv",
                   {k: out / f"{k}.csv" for k in IRT_OUTPUTS})
    return out


@pytest.fixture(scope="module")
def demo_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory, demo_config):
    """The shipped demo cohort run through the pipeline's steps (no hypotheses, no pairing table)."""
    cfg = dict(demo_config)
    cfg["cohorts"] = {"demo": dict(demo_config["cohorts"]["demo"])}
    for key in ("responses", "children"):
        cfg["cohorts"]["demo"][key] = str(REPO / demo_config["cohorts"]["demo"][key])
    study = load_study(cfg, REPO)
    out = tmp_path_factory.mktemp("demo") / "demo"
    return run_steps(study.cohorts["demo"], study, out)


def build(cohort_dir, out, config, language="en", run_time=RUN_TIME, **kw) -> str:
    rp.build_report(cohort_dir, study="demo", cohort="demo", config=config, language=language, seed=20261124,
                    run_time=run_time, out=out, git_commit="0123abc", **kw)
    return Path(out).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_html(demo_dir, demo_config, tmp_path_factory):
    return build(demo_dir, tmp_path_factory.mktemp("r") / "report.html", demo_config)


class Tags(HTMLParser):
    """Collects tags with their attributes, section ids and visible text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def without_images(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


# ---------------------------------------------------------------------------
# the demo report


def test_every_section_present_in_order(demo_html):
    ids = [a["id"] for t, a in parse(demo_html).tags if t == "section"]
    assert ids == SECTION_IDS
    for sid in SECTION_IDS:
        assert f'href="#{sid}"' in demo_html  # table of contents


def test_figures_are_embedded_png(demo_html):
    imgs = [a for t, a in parse(demo_html).tags if t == "img"]
    # missingness x2, items x2, scree, loadings, IRT information and scores, dimensions, style counts,
    # min/max by style, partners
    assert len(imgs) >= 12
    for a in imgs:
        assert a["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(a["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert a.get("alt")


def test_no_external_resources(demo_html):
    for tag, attrs in parse(demo_html).tags:
        for key in ("src", "href", "data", "poster", "action"):
            value = attrs.get(key) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, key, value)
        assert tag not in ("script", "link", "iframe", "object", "embed")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", demo_html)
    assert "@import" not in demo_html


def test_no_respondent_or_couple_id(demo_html, demo_dir):
    scores = pd.read_csv(demo_dir / "scores.csv", dtype=str)
    ids = set(scores["respondent_id"]) | set(scores["couple_id"].dropna())
    text = without_images(demo_html)
    found = [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]
    assert found == []


def test_empty_hypotheses_and_pairing_say_so(demo_html):
    T = Translator("en")
    assert T("no_hypotheses") in demo_html
    assert T("no_pairing_table").replace("'", "&#39;") in demo_html
    assert T("prereg_none") in demo_html


def test_overview_and_quality_facts(demo_html, demo_dir):
    v = json.loads((demo_dir / "qc/validation.json").read_text())
    text = " ".join(parse(demo_html).text)
    assert f"{v['respondents']}" in text
    assert "Experiences in Close Relationships - Revised (ECR-R)" in text
    # factor analysis of the EM (FIML) correlations (factors.missing default), with its n
    assert "Factor analysis of the maximum-likelihood (EM, full-information) correlations: all 400 respondents" in text
    assert RUN_TIME in text


def test_reverse_keyed_marked_and_flagged_items_highlighted(demo_html):
    assert "9 (R) I rarely worry about my partner leaving me." in demo_html
    assert 'class="flag"' in demo_html or "Highlighted rows (0)" in demo_html


def test_irt_section(demo_html):
    html = demo_html[demo_html.index('id="irt"'):demo_html.index('id="dimensions"')]
    T = Translator("en")
    assert "ECR-R: graded response model per subscale." in html
    assert "ECR-R, Attachment anxiety: item parameters and item fit." in html
    assert "ECR-R, Attachment avoidance: item parameters and item fit." in html
    assert "9 (R) I rarely worry about my partner leaving me." in html
    assert html.count('<img src="data:image/png;base64,') == 2  # information, scores
    assert T("irt_scores_caption", instrument="ECR-R") in html
    assert T("irt_no_dif") in html  # the fixture runs without DIF (the workflow test has it)


def test_cfa_cutoffs_explained(demo_html):
    T = Translator("en")
    for key in ("cutoff_cfi", "cutoff_rmsea", "cutoff_srmr"):
        assert T(key).replace("&", "&amp;") in demo_html


def test_midpoint_cut_lines_described(demo_html):
    assert "the midpoint of the response scale (anxiety 4.00, avoidance 4.00)" in demo_html


def test_provenance(demo_html, demo_dir, demo_config):
    v = json.loads((demo_dir / "qc/validation.json").read_text())
    assert v["input"]["sha256"] in demo_html
    assert v["children"]["sha256"] in demo_html
    assert rp.sha256_file(demo_dir / "scores.csv") in demo_html
    assert rp.config_hash(demo_config) in demo_html
    assert "0123abc" in demo_html and "20261124" in demo_html
    for pkg in ("numpy", "pandas", "scipy", "factor_analyzer", "scikit-learn", "snakemake", "attachment-pipeline"):
        assert f"<td>{pkg}</td>" in demo_html
    assert "classification:\n  method: midpoint" in demo_html  # the config as YAML


def test_same_inputs_same_bytes_except_run_time(demo_dir, demo_config, tmp_path, demo_html):
    later = build(demo_dir, tmp_path / "b.html", demo_config, run_time="2027-02-02 08:00 UTC")
    assert later != demo_html
    assert later.replace("2027-02-02 08:00 UTC", RUN_TIME) == demo_html


def test_dutch_report(demo_dir, demo_config, tmp_path):
    html = build(demo_dir, tmp_path / "nl.html", demo_config, language="nl")
    assert '<html lang="nl">' in html
    assert "Datakwaliteit" in html and "Betrouwbaarheid" in html and "Herkomst" in html
    for style in ("veilig", "gepreoccupeerd", "vermijdend", "gedesorganiseerd"):
        assert style in STYLE_LABELS["nl"].values() and style in html
    assert Translator("nl")("no_hypotheses") in html
    assert "Data quality" not in html and "Reliability" not in html


def test_languages_have_the_same_keys():
    assert set(STRINGS["en"]) == set(STRINGS["nl"])
    for key in STRINGS["en"]:
        fields_en = set(re.findall(r"{(\w+)}", STRINGS["en"][key]))
        fields_nl = set(re.findall(r"{(\w+)}", STRINGS["nl"][key]))
        assert fields_en == fields_nl, key
    with pytest.raises(ValueError):
        Translator("de")


# ---------------------------------------------------------------------------
# with hypotheses, a pairing table, a preregistration status and a small group


def fake_hypotheses(path: Path) -> None:
    rows = [
        ["H1", "complementarity", "demo", "Anxiety of one partner goes with avoidance of the other", 148,
         "r_double_entry", 0.182, np.nan, 0.0021, 0.011, "r_double_entry", 0.182, 0.06, 0.29, "greater", 0.05, True,
         0.0, True, ""],
        ["H1[anxiety_A~avoidance_B]", "complementarity", "demo",
         "ecr_r: anxiety of A predicting avoidance of B beyond A's own avoidance", 148, "t", 2.87, 146, 0.002, np.nan,
         "r", 0.23, 0.07, 0.38, "greater", 0.05, None, 0.0, False, ""],
        ["H5", "prevalence", "demo", "Style prevalence against Hazan & Shaver (1987)", 366, "chi2", 27.0, 2,
         0.00000135, 0.0000081, "cohens_w", 0.27, 0.16, 0.37, "two-sided", 0.05, True, 0.0, True, ""],
        ["H8", "duration", "demo", "Security grows with duration", 150, "t", 0.6, 147, 0.276, 1.0, "partial_r",
         0.05, -0.11, 0.21, "greater", 0.05, False, 0.0, True, ""],
    ]
    cols = ["id", "family", "cohort", "description", "n", "statistic_name", "statistic", "df", "p_value", "p_adjusted",
            "effect_size_name", "effect_size", "ci_low", "ci_high", "direction", "alpha", "supported", "null_value",
            "primary", "note"]
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)


def fake_pairing(path: Path) -> None:
    styles = ["secure", "preoccupied", "dismissing", "fearful"]
    rows = []
    obs = iter([40, 20, 18, 9, 6, 30, 3, 5, 12, 5])
    for i, a in enumerate(styles):
        for b in styles[i:]:
            o = next(obs)
            rows.append(["H1b", a, b, 148, o, o * 0.9 + 1, 100 * o / 148, 100 * (o * 0.9 + 1) / 148, o / (o * 0.9 + 1)])
    for i, a in enumerate(["minimiser", "balanced", "maximiser"]):
        for b in ["minimiser", "balanced", "maximiser"][i:]:
            rows.append(["H2", a, b, 148, 16, 15.2, 10.8, 10.3, 1.05])
            rows.append(["H3", a, b, 148, 16, 15.2, 10.8, 10.3, 1.05])
    frame = pd.DataFrame(rows, columns=["id", "category_1", "category_2", "n_couples", "observed", "expected",
                                        "percent_observed", "percent_expected", "ratio"])
    frame.insert(1, "variable", np.where(frame["id"] == "H1b", "style:ecr_r:midpoint", "minmax_type"))
    frame.to_csv(path, index=False)


@pytest.fixture(scope="module")
def full_dir(demo_dir, tmp_path_factory):
    """The demo cohort with hypotheses, a pairing table and a small group."""
    d = tmp_path_factory.mktemp("full") / "demo"
    shutil.copytree(demo_dir, d)
    fake_hypotheses(d / "hypotheses.csv")
    (d / "hypothesis_tables").mkdir(exist_ok=True)
    fake_pairing(d / "hypothesis_tables" / "pairing_table.csv")
    v = json.loads((d / "qc/validation.json").read_text())
    v["groups"]["gender"]["levels"]["rare"] = 3
    (d / "qc/validation.json").write_text(json.dumps(v))
    return d


@pytest.fixture(scope="module")
def full_html(full_dir, demo_config):
    d = full_dir
    prereg = {"status": "differs", "hash": "feedbeef", "differences": ["hypotheses[H1].alpha: 0.05 -> 0.01"]}
    return build(d, d / "report.html", demo_config, prereg=prereg)


def test_hypotheses_apa_table(full_html):
    table = full_html[full_html.index('id="hypotheses"'):full_html.index('id="provenance"')]
    assert "&lt; .001" in table  # p-values
    assert "χ²(2) = 27.00" in table  # chi-square keeps its leading digits
    assert "r = .18" in table and "[.06, .29]" in table  # correlations without leading zero
    assert "Cohen&#39;s w = 0.27" in table  # w can exceed 1: leading zero kept
    assert "t(147) = 0.60" in table
    assert "H1: supported" in table and "H8: not supported" in table
    assert "H1[" not in table and "~" not in table  # secondary rows carry their hypothesis' id, no code notation
    assert table.count("<img") == 1  # the forest plot


def test_pairing_heatmaps_and_prereg(full_html):
    couples = full_html[full_html.index('id="couples"'):full_html.index('id="hypotheses"')]
    # partner plots and two pairing tables: H2 and H3 cross-tabulate the same min/max types, drawn once
    assert couples.count("<img") == 3
    assert "category pair for H1b." in couples and "category pair for H2, H3." in couples
    assert "differ from the preregistration lock made" in full_html
    assert "hypotheses[H1].alpha: 0.05 -&gt; 0.01" in full_html


def test_small_counts_suppressed(full_html):
    assert "<td>rare</td><td class=\"num\">&lt;5</td>" in full_html


# ---------------------------------------------------------------------------
# a cohort without couples and without a dimension instrument


def test_checklist_only_cohort_without_couples(tmp_path):
    path = tmp_path / "responses.csv"
    make_responses(n=40, seed=3, couples=False).to_csv(path, index=False)
    study = study_for(path, instruments=["minmax"], items={"minmax": "mm_{n}"}, couples=None)
    cohort = study.cohorts["c"]
    out = run_steps(cohort, study, tmp_path / "c")
    cfg = {"study": "t", "cohorts": {"c": {"responses": str(path), "instruments": ["minmax"]}}}
    html = build(out, tmp_path / "report.html", cfg, language="nl")
    T = Translator("nl")
    assert [a["id"] for t, a in parse(html).tags if t == "section"] == SECTION_IDS
    for key in ("no_factors", "no_dimensions", "no_styles", "no_couples", "no_hypotheses"):
        assert T(key) in html
    assert "P001" not in without_images(html)


def test_study_index(tmp_path, demo_dir):
    study_dir = tmp_path / "demo"
    shutil.copytree(demo_dir, study_dir / "demo")
    out = rp.build_study_index(study_dir, ["demo", "second"], study="demo", language="en", out=study_dir / "index.html")
    html = out.read_text(encoding="utf-8")
    hrefs = [a["href"] for t, a in parse(html).tags if t == "a"]
    assert hrefs == ["demo/report.html", "second/report.html"]
    assert "<td class=\"num\">400</td>" in html


# ---------------------------------------------------------------------------
# formatting and helpers


def test_apa_numbers():
    assert rp.fmt_p(0.0009) == "< .001" and rp.fmt_p(0.01234) == ".012" and rp.fmt_p(np.nan) == "–"
    assert rp.fmt_p(1.0) == "> .999" and rp.fmt_p(0.9994) == ".999" and rp.fmt_p(0.9995) == "> .999"
    assert rp.p_text(1.0) == "p > .999" and rp.p_text(0.0001) == "p < .001" and rp.p_text(0.5) == "p = .500"
    assert rp.fmt_bounded(0.944) == ".94" and rp.fmt_bounded(-0.381) == "−.38" and rp.fmt_bounded(-0.001) == ".00"
    assert rp.fmt_num(2.5) == "2.50" and rp.fmt_num(-1.3) == "−1.30" and rp.fmt_num(-0.001) == "0.00"
    assert rp.fmt_ci(0.1, 0.25) == "[.10, .25]" and rp.fmt_ci(0.5, 1.5, bounded=False) == "[0.50, 1.50]"
    assert rp.fmt_statistic("t_welch", 2.0, 383.7) == "t(383.7) = 2.00"
    assert rp.fmt_statistic("observed_couples", 12.0, np.nan) == "O = 12"
    assert rp.fmt_count(4, 5) == "<5" and rp.fmt_count(5, 5) == "5" and rp.fmt_count(0, 5) == "0"
    assert rp.fmt_count(9, 10) == "<10"


def test_fit_verdicts():
    assert rp.fit_verdict("cfi", 0.96) == "good" and rp.fit_verdict("tli", 0.90) == "acceptable"
    assert rp.fit_verdict("rmsea", 0.07) == "acceptable" and rp.fit_verdict("rmsea", 0.09) == "poor"
    assert rp.fit_verdict("srmr", 0.08) == "good" and rp.fit_verdict("cfi", np.nan) == "unknown"


def test_raw_answers_undo_reverse_keying():
    inst = load_instrument("ecr").with_scale(1, 5)
    keyed = pd.DataFrame({"ecr_3": [1.0, 5.0, np.nan], "ecr_1": [2.0, 4.0, 1.0]})
    raw = rp.raw_answers(keyed, inst)
    assert raw["ecr_3"].tolist()[:2] == [5.0, 1.0] and np.isnan(raw["ecr_3"].iloc[2])
    assert raw["ecr_1"].tolist() == [2.0, 4.0, 1.0]
    pct = rp.answer_percentages(raw, [1, 2, 3, 4, 5])
    assert pct.loc["ecr_3"].tolist() == [50.0, 0.0, 0.0, 0.0, 50.0]


def test_partner_pairs_use_role_order_and_skip_incomplete():
    s = pd.DataFrame({"couple": ["c1", "c1", "c2", "c2", "c3", None], "role": ["B", "A", "A", "B", "A", None]},
                     index=list("pqrstu"))
    pairs = rp.partner_pairs(s, "couple", "role")
    assert pairs[["a", "b"]].values.tolist() == [[1, 0], [2, 3]]
    no_roles = rp.partner_pairs(s, "couple", None)
    assert no_roles[["a", "b"]].values.tolist() == [[0, 1], [2, 3]]


def test_hexbin_for_large_samples_and_stable_png():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(1, 7, 2500), rng.uniform(1, 7, 2500)
    kw = dict(scale=(1, 7), cuts={"anxiety": 4.0, "avoidance": 4.0}, quadrant_labels=STYLE_LABELS["en"],
              style_labels={}, labels={"xlabel": "x", "ylabel": "y", "count": "n"})
    fig = fg.dimension_plot(x, y, None, **kw)
    assert any(c.__class__.__name__ == "PolyCollection" for c in fig.axes[0].collections)
    assert fg.png_data_uri(fig) == fg.png_data_uri(fg.dimension_plot(x, y, None, **kw))


def test_prereg_status_from_lock(tmp_path):
    prereg = pytest.importorskip("attachment_pipeline.prereg")
    cfg = {"seed": 1, "hypotheses": [{"id": "H1", "family": "complementarity"}]}
    lock = prereg.write_lock(prereg.make_lock(cfg, now="2026-01-01T00:00:00Z"), tmp_path / "lock.json")
    assert rp.prereg_status(cfg, lock)["status"] == "matches"
    changed = {"seed": 2, "hypotheses": cfg["hypotheses"]}
    st = rp.prereg_status(changed, lock)
    assert st["status"] == "differs" and st["differences"] and st["created"] == "2026-01-01T00:00:00Z"
    assert rp.prereg_status(cfg, tmp_path / "none.json") == {"status": "no lock", "differences": []}
    assert rp.prereg_status(cfg, None)["status"] == "no lock"


# ---------------------------------------------------------------------------
# thesis-ready parts: methods paragraph, references, Table 1, readable labels, Word


def _section(html: str, sid: str) -> str:
    start = html.index(f'id="{sid}"')
    return html[start:html.index("</section>", start)]


def _visible(html: str) -> str:
    return " ".join(parse(without_images(html)).text)


def test_methods_paragraph_cites_what_ran_and_only_that(demo_dir, demo_config):
    ctx = rp.build_context(demo_dir, study="demo", cohort="demo", config=demo_config, language="en", seed=1,
                           run_time=RUN_TIME, git_commit="x")
    paras, refs = rp.methods_paragraphs(ctx)
    text = " ".join(paras)
    assert "Fraley et al., 2000" in text and "(Cronbach, 1951)" in text and "Horn, 1965" in text
    assert "Yuan & Bentler, 2000" in text  # the demo's CFA ran with MLR and FIML
    assert "Zhang & Savalei, 2023" in text and "Muthén" not in text  # no WLSMV, no categorical indices
    assert "Samejima's (1969)" in text and "Bartholomew and Horowitz (1991)" in text
    # every work cited in the text is in the list, and every entry of the list is cited
    listed = [(re.match(r"([\w-]+)", r.replace("*", "")).group(1), re.search(r"\((\d{4})\)", r).group(1))
              for r in refs]
    for surname, year in listed:
        assert re.search(rf"{surname}[^()]{{0,60}}?\(?{year}", text), (surname, year)
    assert set(re.findall(r"\b(?:19|20)\d\d\b", text)) == {year for _, year in listed}
    assert refs == sorted(refs, key=lambda r: r.replace("*", "").casefold())  # APA: alphabetical


def test_methods_follow_the_estimator(demo_dir, demo_config, tmp_path):
    d = tmp_path / "demo"
    shutil.copytree(demo_dir, d)
    fit = pd.read_csv(d / "cfa_fit.csv")
    fit["estimator"], fit["missing"] = "wlsmv", "pairwise"
    fit.to_csv(d / "cfa_fit.csv", index=False)
    (d / "classification_agreement.csv").unlink()
    ctx = rp.build_context(d, study="demo", cohort="demo", config=demo_config, language="en", seed=1,
                           run_time=RUN_TIME, git_commit="x")
    text, refs = rp.methods_paragraphs(ctx)
    assert any("WLSMV; Muthén et al., 1997" in p for p in text) and not any("Yuan" in p for p in text)
    assert any(r.startswith("Savalei, V. (2021)") for r in refs) and not any(r.startswith("Yuan") for r in refs)
    assert not any(r.startswith("Cohen, J.") for r in refs)  # no agreement table: kappa not cited


def test_table1_against_hand_calculation(demo_html, demo_dir):
    from scipy import stats

    scores = read_scores(demo_dir / "scores.csv")
    table = _section(demo_html, "methods")
    assert "Table 1. Means, standard deviations" in table
    a, b = scores["ecr_r_anxiety"], scores["ecr_r_avoidance"]
    both = a.notna() & b.notna()
    res = stats.pearsonr(a[both], b[both])
    ci = res.confidence_interval(0.95)
    cell = f"{rp.fmt_bounded(res.statistic)}** [{rp.fmt_bounded(ci.low)}, {rp.fmt_bounded(ci.high)}]"
    assert cell in table
    assert f"<td class=\"num\">{rp.fmt_num(a.mean())}</td><td class=\"num\">{rp.fmt_num(a.std())}</td>" in table
    rel = pd.read_csv(demo_dir / "reliability.csv")
    alpha = rel[(rel["subscale"] == "anxiety") & (rel["group_column"] == "all")]["alpha"].iloc[0]
    assert f"({rp.fmt_bounded(alpha)})" in table  # alpha on the diagonal
    assert "References" in table and "Fraley, R. C., Waller, N. G., &amp; Brennan, K. A. (2000)." in table
    assert "<em>Journal of Personality and Social Psychology, 78</em>(2)" in table  # APA italics


def test_correlation_table_against_scipy_and_hand():
    from scipy import stats

    from attachment_pipeline.descriptives import correlation_table, describe

    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    x.loc[[1, 5, 9], "b"] = np.nan
    x["c"] = x["c"] + 0.5 * x["a"]
    table = correlation_table(x)
    assert list(zip(table["variable_1"], table["variable_2"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    for _, r in table.iterrows():
        d = x[[r["variable_1"], r["variable_2"]]].dropna()
        ref = stats.pearsonr(d.iloc[:, 0], d.iloc[:, 1])
        ci = ref.confidence_interval(0.95)
        assert r["n"] == len(d)
        assert r["r"] == pytest.approx(ref.statistic, abs=1e-12) and r["p"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)
        z = np.arctanh(r["r"])  # hand: Fisher z +- 1.959964 / sqrt(n - 3)
        assert r["ci_high"] == pytest.approx(np.tanh(z + 1.959963985 / np.sqrt(len(d) - 3)), abs=1e-9)
    assert describe(x)["n"].tolist() == [60, 57, 60]
    with pytest.raises(ValueError, match="not numeric"):
        correlation_table(x.assign(g="x"))


def test_no_code_names_in_the_text_people_read(full_html):
    text = _visible(full_html[:full_html.index('id="provenance"')])
    for bad in ("seed 5", "seed 3", "~~", "H1[", "ecr_r_", "ecr_r ", "p = 1.000", "0 (0.0)", "chi2("):
        assert bad not in text, bad
    assert not re.search(r"\bO = ", text)
    assert "> .999" in text


def test_word_report(demo_dir, demo_config, tmp_path):
    from docx import Document

    build(demo_dir, tmp_path / "a.html", demo_config, docx_out=tmp_path / "a.docx")
    ctx = rp.build_context(demo_dir, study="demo", cohort="demo", config=demo_config, language="en", seed=1,
                           run_time=RUN_TIME, git_commit="x")
    sections = [rp.section_overview(ctx), rp.section_methods(ctx)]
    one, two = (rp.word_bytes(sections, title="t", subtitle="s", T=ctx.T) for _ in range(2))
    assert one == two  # reproducible bytes (python-docx stamps the time on every zip entry: normalised)
    doc = Document(tmp_path / "a.docx")
    texts = [p.text for p in doc.paragraphs]
    assert "2. Method, Table 1 and references" in texts and "Table 1" in texts
    assert any(t.startswith("The data file held 400 rows") for t in texts)
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells][:4] == ["Variable", "n", "M", "SD"]
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert len(doc.tables) == html.count("<table>")  # every table of the report
    assert len(doc.inline_shapes) == html.count("<img")  # and every figure
    refs = [p for p in doc.paragraphs if p.text.startswith("Fraley, R. C.")]
    assert refs and any(r.italic for r in refs[0].runs)


# ---------------------------------------------------------------------------
# Dutch, completely

#: words and symbols that are the same in Dutch (statistical notation, abbreviations, loan words)
SAME_IN_DUTCH = {"Items", "Item", "items", "item", "Model", "CFI", "TLI", "SRMR", "AIC", "BIC", "RMSEA", "SRMSR",
                 "log", "EAP", "drop", "means", "ICC", "Score", "Scores", "score", "scores", "APIM", "actor", "partner",
                 "min", "max", "index", "Hedges", "Cohen", "ECR", "KMO", "BIC", "Bartlett", "Minimiser", "Maximiser",
                 "checklist", "Hendrix", "lavaan", "psych", "mclust", "VVV", "MLR", "WLSMV", "FIML", "EFA", "CFA",
                 "DIF", "ESSD", "IRT", "GRM", "SHA", "UTC", "csv", "json", "lock", "seed", "Cohort", "cohort",
                 "minimiser", "maximiser", "minimisers", "maximisers"}
ENGLISH_WORDS = re.compile(r"\b(the|and|with|from|for|than|which|are|were|respondents|couples|missing|deletion)\b")


class TextNodes(HTMLParser):
    """Visible text nodes outside the provenance section, the config listing and the reference list."""

    def __init__(self):
        super().__init__()
        self.nodes, self.skip, self.section = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
        if tag in ("style", "pre") or (tag == "div" and a.get("class") == "references"):
            self.skip.append(tag)

    def handle_endtag(self, tag):
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data):
        if data.strip() and not self.skip and self.section != "provenance":
            self.nodes.append(data.strip())


def text_nodes(html: str) -> list:
    p = TextNodes()
    p.feed(without_images(html))
    return p.nodes


def allowed_names(cohort_dir: Path, config: dict, language: str) -> list:
    """Names that stay as written in every language: data values, instrument titles and untranslated item texts,
    the hypotheses' descriptions of the config."""
    v = json.loads((cohort_dir / "qc/validation.json").read_text(encoding="utf-8"))
    names = ["demo", v["input"]["file"]]
    for column, info in (v.get("groups") or {}).items():
        names += [column] + [str(level) for level in info["levels"]]
    names += list(v.get("covariates") or {})
    names += [f"„{value}”" for value in ("error", "missing")]  # the config's rule values, quoted in the text
    for name in v["items"]:
        inst = load_instrument(name)
        names += [inst.title, rp.short_name(inst), inst.name]
        names += [lab.get(language, "") for lab in inst.subscale_labels.values()]
        names += [it.text.get("en", "") for it in inst.items if not it.text.get(language)]
    names += [str(h.get("description", "")) for h in config.get("hypotheses") or []]
    if (cohort_dir / "hypotheses.csv").is_file():  # the primary rows' descriptions are the user's (or the family's)
        hyp = pd.read_csv(cohort_dir / "hypotheses.csv")
        names += [str(d) for d, i in zip(hyp["description"], hyp["id"]) if "[" not in str(i)]
    return sorted({n for n in names if n}, key=len, reverse=True)


def untranslated(nl_html: str, en_html: str, names: list) -> list:
    """Text nodes of the Dutch report that are still English (same node as in English, or English words)."""
    en = set(text_nodes(en_html))
    bad = []
    for node in text_nodes(nl_html):
        rest = re.sub(r"\b[a-z_]+\.[a-z_]+(: \w+)?", " ", rp.strip_seed_refs(node))  # config keys
        for name in names:
            rest = rest.replace(rp.strip_seed_refs(name), " ")
            if len(name) > 24:  # item texts are cut to fit a column ("... as muc…")
                rest = re.sub(re.escape(name[:20]) + r"[^|]*?…", " ", rest)
        words = [w for w in re.findall(r"[A-Za-z]{3,}", rest) if w not in SAME_IN_DUTCH]
        if (node in en and words) or ENGLISH_WORDS.search(rest):
            bad.append(node)
    return bad


@pytest.fixture(scope="module")
def full_nl_html(full_dir, demo_config, tmp_path_factory):
    return build(full_dir, tmp_path_factory.mktemp("nl") / "report.html", dict(demo_config, language="nl"),
                 language="nl")


def test_dutch_report_has_no_english_left(full_dir, demo_config, full_html, full_nl_html):
    nl, en = full_nl_html, full_html
    assert untranslated(nl, en, allowed_names(full_dir, demo_config, "nl")) == []
    # Dutch number format: decimal comma (APA style otherwise: no leading zero for values up to 1)
    table1 = _section(nl, "methods")
    assert re.search(r"\(,9\d\)", table1) and re.search(r"\[,\d\d; ,\d\d\]", table1)
    assert "p &lt; ,001" in nl and "Tabel 1" in table1
    # ECR-R items have no Dutch text in the shipped instrument file: the report says they are shown in English
    assert "Itemteksten zoals in het origineel (Engels; het instrumentbestand heeft geen Nederlandse tekst): ECR-R" in nl
    assert "Itemteksten in het Nederlands: Minimiser/maximiser checklist" in nl


def test_untranslated_strings_are_found(full_dir, demo_config, full_html, full_nl_html):
    """The check above would catch a Dutch text left in English (here: two texts put back into English)."""
    nl, en = full_nl_html, full_html
    for key in ("sec_methods", "table1_note"):
        dutch = Translator("nl")(key, n="397").split("{")[0][:30]
        english = Translator("en")(key, n="397")
        assert dutch in nl
        nl = re.sub(re.escape(dutch) + r"[^<]*", english.replace("'", "&#39;"), nl)
    bad = untranslated(nl, en, allowed_names(full_dir, demo_config, "nl"))
    assert any(b.startswith("Method, Table 1") for b in bad) and any("Cronbach's" in b for b in bad)


def test_dutch_item_texts_where_the_instrument_has_them(tmp_path, demo_dir, demo_config):
    """An instrument file with Dutch item texts: shown where present, the original otherwise, and said so."""
    src = INSTRUMENT_DIR / "ecr_r.yaml"
    spec = yaml.safe_load(src.read_text(encoding="utf-8"))
    spec["items"][0]["text"]["nl"] = "Ik ben bang dat ik de liefde van mijn partner verlies (testvertaling)."
    folder = tmp_path / "instruments"
    folder.mkdir()
    (folder / "ecr_r.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    (folder / "minmax.yaml").write_text((INSTRUMENT_DIR / "minmax.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    cfg = dict(demo_config, language="nl", instrument_dir=str(folder))
    html = build(demo_dir, tmp_path / "nl.html", cfg, language="nl")
    assert "1 Ik ben bang dat ik de liefde van mijn partner verlies (testvertaling)." in html
    assert "2 I often worry that my partner will not want to stay with me." in html  # no Dutch text: the original
    assert "Itemteksten deels in het Nederlands, de andere zoals in het origineel: ECR-R" in html


def test_study_page_formatted_like_the_report(tmp_path, demo_dir):
    study_dir = tmp_path / "demo"
    shutil.copytree(demo_dir, study_dir / "demo")
    (study_dir / "pooled").mkdir()
    pd.DataFrame({"instrument": ["ecr_r", "ecr_r"], "comparison": ["demo:gender", "demo:gender"],
                  "model": ["configural", "metric"], "n": [391, 391], "n_groups": [2, 2], "chi2": [1465.4, 1508.3],
                  "df": [1186, 1220], "chi2_scaled": [1406.456, 1455.509], "df_scaled": [1186, 1220],
                  "cfi": [0.9637, 0.9625], "cfi_robust": [0.96883, 0.96702], "rmsea": [0.0347, 0.0348],
                  "rmsea_robust": [0.03244, 0.03290], "srmr": [0.0479, 0.0566], "delta_chi2": [np.nan, 51.1],
                  "delta_cfi": [np.nan, -0.00000003], "delta_rmsea": [np.nan, 0.00046],
                  "decision": ["configural model (reference): CFI = .969", "metric invariance supported (delta ...)"]}
                 ).to_csv(study_dir / "pooled" / "invariance.csv", index=False)
    pd.DataFrame({"instrument": ["ecr_r"], "subscale": ["anxiety"], "cohort": ["demo"], "n": [400], "k": [18],
                  "alpha": [0.9494], "test": [np.nan], "statistic": [np.nan], "p": [np.nan]}
                 ).to_csv(study_dir / "pooled" / "reliability.csv", index=False)
    pages = {}
    for language in ("en", "nl"):
        out = rp.build_study_index(study_dir, ["demo"], study="demo", language=language,
                                   out=study_dir / f"index_{language}.html")
        pages[language] = out.read_text(encoding="utf-8")
    en, nl = pages["en"], pages["nl"]
    for raw in ("chi2", "delta_cfi", "-0.000", "0.000", "ecr_r", "n_groups", "configural model (reference)"):
        assert raw not in en and raw not in nl, raw
    assert "χ²(1220) = 1455.51" in en and "<td class=\"num\">.967</td>" in en and "ΔCFI" in en
    assert "ECR-R" in en and "Attachment anxiety" in en and "<td class=\"num\">.95</td>" in en
    assert "χ²(1220) = 1455,51" in nl and "<td class=\"num\">,967</td>" in nl and "Hechtingsangst" in nl
    assert "<td class=\"num\">,000</td>" in nl  # −0.00000003: no "−,000" (APA: a zero has no sign)
    allowed = ["demo", "gender", "ECR-R", "Minimiser/maximiser checklist", "results/demo/pooled/", "config/README.md"]
    assert untranslated(nl, en, allowed) == []
