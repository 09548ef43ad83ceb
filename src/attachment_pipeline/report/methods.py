"""The methods paragraph, APA Table 1 and the APA 7 reference list, from what actually ran.

Every sentence is built from the cohort's tables (``qc/validation.json``, which result
tables exist and what they hold) and the config the run used; a method is cited only
when its table is there (no CFA table: no Yuan & Bentler). :data:`REFERENCES` holds
each cited work once, in APA 7 (``*...*`` marks the italic part); :func:`reference_runs`
splits an entry into (text, italic) runs for the HTML and Word renderings.

What each citation stands for (checked against the code and ``docs/decisions.md``):

- instruments: the instrument file's own reference (Fraley et al., 2000, for the ECR-R);
- alpha (Cronbach, 1951) with Feldt et al. (1987) intervals; omega (McDonald, 1999),
  both as ``psych::alpha``/``psych::omega`` compute them (Revelle, 2022);
- parallel analysis (Horn, 1965);
- CFA: the pipeline's own engine, checked against lavaan 0.6-14 (Rosseel, 2012); MLR:
  Yuan-Bentler scaled test (Yuan & Bentler, 2000), robust CFI/RMSEA after Brosseau-Liard
  & Savalei (2014) / Brosseau-Liard et al. (2012) with complete data and Zhang & Savalei
  (2023) with FIML; WLSMV: Muthen et al. (1997), robust indices after Savalei (2021);
  scaled difference tests (Satorra & Bentler, 2001) where a difference test ran; cut-offs
  Hu & Bentler (1999);
- graded response model (Samejima, 1969) by marginal maximum likelihood (Bock & Aitkin, 1981);
- styles: quadrants of Bartholomew & Horowitz (1991); Gaussian mixtures as mclust's
  unrestricted model (Scrucca et al., 2016); agreement as Cohen's (1960) kappa;
- couples (Kenny et al., 2006); Holm (1979) or Benjamini & Hochberg (1995) corrections;
- Table 1 intervals: Fisher (1921).
"""

from __future__ import annotations

import re

import pandas as pd

from ..descriptives import correlation_table
from .blocks import Context, Table
from .context import _subscale_label, short_name
from .formatting import DASH, _finite, fmt_bounded, fmt_ci, fmt_int, fmt_num

#: APA 7 reference entries by key; ``*...*`` is set in italics.
REFERENCES = {
    "bartholomew1991": "Bartholomew, K., & Horowitz, L. M. (1991). Attachment styles among young adults: A test "
                       "of a four-category model. *Journal of Personality and Social Psychology, 61*(2), 226–244. "
                       "https://doi.org/10.1037/0022-3514.61.2.226",
    "benjamini1995": "Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: A practical and "
                     "powerful approach to multiple testing. *Journal of the Royal Statistical Society: Series B "
                     "(Methodological), 57*(1), 289–300. https://doi.org/10.1111/j.2517-6161.1995.tb02031.x",
    "bock1981": "Bock, R. D., & Aitkin, M. (1981). Marginal maximum likelihood estimation of item parameters: "
                "Application of an EM algorithm. *Psychometrika, 46*(4), 443–459. https://doi.org/10.1007/BF02293801",
    "brennan1998": "Brennan, K. A., Clark, C. L., & Shaver, P. R. (1998). Self-report measurement of adult "
                   "attachment: An integrative overview. In J. A. Simpson & W. S. Rholes (Eds.), *Attachment theory "
                   "and close relationships* (pp. 46–76). Guilford Press.",
    "brosseau2012": "Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the sample performance "
                    "of two nonnormality corrections for RMSEA. *Multivariate Behavioral Research, 47*(6), 904–930. "
                    "https://doi.org/10.1080/00273171.2012.715252",
    "brosseau2014": "Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for "
                    "nonnormality. *Multivariate Behavioral Research, 49*(5), 460–470. "
                    "https://doi.org/10.1080/00273171.2014.933697",
    "cohen1960": "Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and Psychological "
                 "Measurement, 20*(1), 37–46. https://doi.org/10.1177/001316446002000104",
    "cronbach1951": "Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. *Psychometrika, "
                    "16*(3), 297–334. https://doi.org/10.1007/BF02310555",
    "feldt1987": "Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for coefficient alpha. "
                 "*Applied Psychological Measurement, 11*(1), 93–103. https://doi.org/10.1177/014662168701100107",
    "fisher1921": "Fisher, R. A. (1921). On the “probable error” of a coefficient of correlation deduced from a "
                  "small sample. *Metron, 1*, 3–32.",
    "fraley2000": "Fraley, R. C., Waller, N. G., & Brennan, K. A. (2000). An item response theory analysis of "
                  "self-report measures of adult attachment. *Journal of Personality and Social Psychology, 78*(2), "
                  "350–365. https://doi.org/10.1037/0022-3514.78.2.350",
    "hendrix1988": "Hendrix, H. (1988). *Getting the love you want: A guide for couples*. Henry Holt.",
    "holm1979": "Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal of "
                "Statistics, 6*(2), 65–70.",
    "horn1965": "Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis. "
                "*Psychometrika, 30*(2), 179–185. https://doi.org/10.1007/BF02289447",
    "hu1999": "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure analysis: "
              "Conventional criteria versus new alternatives. *Structural Equation Modeling, 6*(1), 1–55. "
              "https://doi.org/10.1080/10705519909540118",
    "kenny2006": "Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). *Dyadic data analysis*. Guilford Press.",
    "mcdonald1999": "McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.",
    "muthen1997": "Muthén, B. O., du Toit, S. H. C., & Spisic, D. (1997). *Robust inference using weighted least "
                  "squares and quadratic estimating equations in latent variable modeling with categorical and "
                  "continuous outcomes* [Unpublished manuscript]. University of California, Los Angeles.",
    "revelle2022": "Revelle, W. (2022). *psych: Procedures for psychological, psychometric, and personality "
                   "research* (R package version 2.2.9) [Computer software]. Northwestern University. "
                   "https://CRAN.R-project.org/package=psych",
    "rosseel2012": "Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of "
                   "Statistical Software, 48*(2), 1–36. https://doi.org/10.18637/jss.v048.i02",
    "samejima1969": "Samejima, F. (1969). Estimation of latent ability using a response pattern of graded scores. "
                    "*Psychometrika Monograph Supplement, 34*(4, Pt. 2), 1–97.",
    "satorra2001": "Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for moment "
                   "structure analysis. *Psychometrika, 66*(4), 507–514. https://doi.org/10.1007/BF02296192",
    "savalei2021": "Savalei, V. (2021). Improving fit indices in structural equation modeling with categorical "
                   "data. *Multivariate Behavioral Research, 56*(3), 390–407. "
                   "https://doi.org/10.1080/00273171.2020.1717922",
    "scrucca2016": "Scrucca, L., Fop, M., Murphy, T. B., & Raftery, A. E. (2016). mclust 5: Clustering, "
                   "classification and density estimation using Gaussian finite mixture models. *The R Journal, "
                   "8*(1), 289–317. https://doi.org/10.32614/RJ-2016-021",
    "yuan2000": "Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance "
                "structure analysis with nonnormal missing data. *Sociological Methodology, 30*(1), 165–200. "
                "https://doi.org/10.1111/0081-1750.00078",
    "zhang2023": "Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and TS "
                 "estimation with missing data. *Psychological Methods, 28*(2), 263–283. "
                 "https://doi.org/10.1037/met0000445",
}

#: The reference of each shipped instrument (other instruments: the ``reference`` of their file).
INSTRUMENT_REFERENCES = {"ecr_r": "fraley2000", "ecr": "brennan1998", "minmax": "hendrix1988"}

def reference_runs(entry: str) -> list[tuple[str, bool]]:
    """An entry of :data:`REFERENCES` as (text, italic) runs.

    >>> reference_runs("A. (2000). *Title*. Publisher.")
    [('A. (2000). ', False), ('Title', True), ('. Publisher.', False)]
    """
    parts = entry.split("*")
    return [(p, k % 2 == 1) for k, p in enumerate(parts) if p]


def _sort_key(entry: str) -> str:
    return entry.replace("*", "").casefold()


class Citations:
    """Collects the works a text cites: ``cite("horn1965")`` marks it and returns ``[@horn1965]``."""

    def __init__(self):
        self.keys: dict[str, str] = {}

    def add(self, key: str, entry: str | None = None) -> None:
        self.keys.setdefault(key, entry if entry is not None else REFERENCES[key])

    def entries(self) -> list[str]:
        """The reference list, alphabetical (APA 7)."""
        return sorted(self.keys.values(), key=_sort_key)


def _instrument_cite(ctx: Context, inst, cites: Citations) -> str:
    key = INSTRUMENT_REFERENCES.get(inst.name)
    if key:
        cites.add(key)
        return {"fraley2000": "Fraley et al., 2000", "brennan1998": "Brennan et al., 1998",
                "hendrix1988": "Hendrix, 1988"}[key]
    ref = " ".join(str(inst.reference or "").split())
    m = re.match(r"(.+?)\s*\((\d{4})\)", ref)
    if not m:
        return ""
    cites.add(f"instrument_{inst.name}", ref)
    authors = [a.strip() for a in re.split(r",\s*(?:&\s*)?|\s&\s", m.group(1)) if a.strip() and "." not in a.strip()[:2]]
    first = authors[0] if authors else m.group(1).split(",")[0]
    return f"{first}{' et al.' if len(authors) > 2 else ''}, {m.group(2)}"


def _title_with_cite(title: str, cite: str) -> str:
    """``Experiences ... (ECR-R; Fraley et al., 2000)``; a bracket that is not an abbreviation gives way to the cite.

    >>> _title_with_cite("Experiences in Close Relationships - Revised (ECR-R)", "Fraley et al., 2000")
    'Experiences in Close Relationships - Revised (ECR-R; Fraley et al., 2000)'
    >>> _title_with_cite("Minimiser/maximiser checklist (Hendrix)", "Hendrix, 1988")
    'Minimiser/maximiser checklist (Hendrix, 1988)'
    """
    title = title.strip()
    if not cite:
        return title
    if title.endswith(")") and "(" in title:
        head, inner = title[: title.rindex("(")].rstrip(), title[title.rindex("(") + 1:-1]
        if inner and not any(c.islower() for c in inner):
            return f"{head} ({inner}; {cite})"
        return f"{head} ({cite})"
    return f"{title} ({cite})"


def _excluded_text(ctx: Context) -> str:
    T, v = ctx.T, ctx.res["validation"]
    excluded = v.get("excluded") or {}
    parts = [T("methods_excluded_item", n=fmt_int(info.get("n", 0)), reason=T.get(f"excl_{reason}", reason))
             for reason, info in excluded.items() if int(info.get("n", 0) or 0)]
    return "; ".join(parts)


def _section_setting(ctx: Context, section: str, key: str, default):
    return (ctx.config.get(section) or {}).get(key, default)


def methods_paragraphs(ctx: Context) -> tuple[list[str], list[str]]:
    """The methods text (paragraphs) and its reference list, from what ran for this cohort.

    Returns (paragraphs, references): each paragraph a string ready to paste, the
    references APA 7 entries (``*...*`` italic), alphabetical, only of works cited.
    """
    T, v, res = ctx.T, ctx.res["validation"], ctx.res
    cites = Citations()
    paras = []

    # participants and instruments
    s = [T("methods_participants", rows=fmt_int(v.get("rows_in_file")), n=fmt_int(v.get("respondents")))]
    excluded = _excluded_text(ctx)
    if excluded:
        s.append(T("methods_excluded", reasons=excluded))
    couples = v.get("couples") or {}
    if couples.get("couples"):
        s.append(T("methods_couples", couples=fmt_int(couples["couples"]),
                   singles=fmt_int(couples.get("respondents_without_partner", 0))))
        cites.add("kenny2006")
    min_answered = (v.get("scoring") or {}).get("min_answered", _section_setting(ctx, "scoring", "min_answered", 0.8))
    for inst in ctx.instruments:
        cite = _instrument_cite(ctx, inst, cites)
        subs = ", ".join(_subscale_label(ctx, inst, sub).lower() for sub in inst.subscales)
        key = "methods_instrument_minmax" if inst.kind == "minmax" else "methods_instrument"
        sc = (v.get("items", {}).get(inst.name, {}) or {}).get("scoring", {})
        s.append(T(key, title=_title_with_cite(inst.title, cite), cite="", k=inst.n_items, lo=inst.scale_min,
                   hi=inst.scale_max, subscales=subs, scored=fmt_int(sc.get("scored")),
                   unscored=fmt_int(sc.get("unscored")), share=f"{100 * float(min_answered):.0f}"))
    paras.append(" ".join(s))

    # missing data and reliability
    s = []
    totals = [(inst, (v.get("items", {}).get(inst.name, {}) or {}).get("totals", {})) for inst in ctx.instruments]
    for inst, t in totals:
        missing = sum(int(x or 0) for x in t.values())
        answered_cells = None
        if res.get("items") is not None:
            cols = [c for c in res["items"].columns if c.startswith(inst.name + "_")]
            answered_cells = len(res["items"]) * len(cols) if cols else None
        share = (f" ({fmt_num(100 * missing / answered_cells, 1)}%)" if answered_cells else "")
        s.append(T("methods_missing_answers", instrument=short_name(inst), n=fmt_int(missing), share=share))
    rel = res.get("reliability")
    if rel is not None:
        cites.add("cronbach1951")
        rel_missing = _section_setting(ctx, "reliability", "missing", "pairwise")
        n_boot = int(_section_setting(ctx, "reliability", "n_boot", 1000) or 0)
        ci = float(_section_setting(ctx, "reliability", "ci", 0.95))
        cites.add("feldt1987")
        boot = T("methods_alpha_boot", n_boot=fmt_int(n_boot)) if n_boot else ""
        omega = "omega_total" in rel and rel["omega_total"].notna().any()
        if omega:
            cites.add("mcdonald1999")
        cites.add("revelle2022")
        s.append(T("methods_reliability", ci=f"{100 * ci:.0f}", boot=boot,
                   omega=T("methods_omega") if omega else "",
                   missing=T.get(f"methods_missing_{rel_missing}", rel_missing)))
    if s:
        paras.append(" ".join(s))

    # factor structure
    s = []
    if res.get("parallel") is not None or res.get("efa_fit") is not None:
        cites.add("horn1965")
        efa = res.get("efa_fit")
        extraction = str(efa["extraction"].iloc[0]) if efa is not None and "extraction" in efa else \
            _section_setting(ctx, "factors", "extraction", "minres")
        rotation = str(efa["rotation"].iloc[0]) if efa is not None and "rotation" in efa else \
            _section_setting(ctx, "factors", "rotation", "oblimin")
        basis = str(efa["missing"].iloc[0]) if efa is not None and "missing" in efa else \
            _section_setting(ctx, "factors", "missing", "pairwise")
        s.append(T("methods_efa", iterations=fmt_int(_section_setting(ctx, "factors", "parallel_iterations", 100)),
                   extraction=T.get(f"extraction_{extraction}", extraction), rotation=rotation,
                   basis=T.get(f"methods_efa_missing_{basis}", basis)))
    cfa = res.get("cfa_fit")
    if cfa is not None and len(cfa):
        estimator = str(cfa["estimator"].iloc[0]) if "estimator" in cfa else "ml"
        missing = str(cfa["missing"].iloc[0]) if "missing" in cfa else "listwise"
        cites.add("rosseel2012")
        cites.add("hu1999")
        if estimator == "mlr":
            cites.add("yuan2000")
            if missing == "fiml":
                cites.add("zhang2023")
                robust = "Zhang & Savalei, 2023"
            else:
                cites.add("brosseau2014")
                cites.add("brosseau2012")
                robust = "Brosseau-Liard et al., 2012; Brosseau-Liard & Savalei, 2014"
            est = T("methods_cfa_mlr", robust=robust)
        elif estimator == "wlsmv":
            cites.add("muthen1997")
            cites.add("savalei2021")
            est = T("methods_cfa_wlsmv")
        else:
            est = T("methods_cfa_ml")
        s.append(T("methods_cfa", estimator=est, missing=T.get(f"methods_cfa_missing_{missing}", missing)))
        if _difference_tests_ran(ctx) and estimator == "mlr":
            cites.add("satorra2001")
            s.append(T("methods_difference_mlr"))
    if s:
        paras.append(" ".join(s))

    irt = res.get("irt_fit")
    if irt is not None and len(irt):
        cites.add("samejima1969")
        cites.add("bock1981")
        cites.add("fraley2000")
        link = str(irt["link"].iloc[0]) if "link" in irt else "logistic"
        paras.append(T("methods_irt", link=T.get(f"methods_link_{link}", link)))

    # classification
    counts = res.get("style_counts")
    if counts is not None and len(counts):
        cites.add("bartholomew1991")
        methods = list(dict.fromkeys(counts["method"]))
        others = [m for m in methods if m != ctx.primary_method]
        s = [T("methods_styles", primary=T.get(f"methods_style_{ctx.primary_method}",
                                                 T.get(f"method_{ctx.primary_method}", ctx.primary_method)))]
        if others:
            s.append(T("methods_styles_compare", others=", ".join(T.get(f"method_{m}", m) for m in others)))
        if "gmm" in methods:
            cites.add("scrucca2016")
            s.append(T("methods_gmm"))
        if res.get("agreement") is not None:
            cites.add("cohen1960")
            s.append(T("methods_agreement"))
        paras.append(" ".join(s))

    # hypotheses
    hyp = res.get("hypotheses")
    if hyp is not None and len(hyp):
        correction = (ctx.config.get("hypothesis_testing") or {}).get("correction", "holm")
        cite = {"holm": "holm1979", "weighted_holm": "holm1979", "bh": "benjamini1995"}.get(correction)
        if cite:
            cites.add(cite)
        primary = hyp[~hyp["id"].astype(str).str.contains(r"\[", regex=True)]
        alphas = sorted(set(float(a) for a in primary["alpha"] if _finite(a)))
        s = [T("methods_hypotheses", k=len(primary), correction=T.get(f"methods_correction_{correction}", correction),
               alpha=", ".join(fmt_bounded(a) for a in alphas) or DASH)]
        if couples.get("couples"):
            s.append(T("methods_hypotheses_couples"))
        paras.append(" ".join(s))

    if _table1_variables(ctx):
        cites.add("fisher1921")
        paras.append(T("methods_table1"))
    return paras, cites.entries()


def _difference_tests_ran(ctx: Context) -> bool:
    hyp = ctx.res.get("hypotheses")
    if hyp is not None and (hyp["statistic_name"].astype(str) == "chi2_diff").any():
        return True
    return ctx.res.get("dyadic_invariance") is not None


# ---------------------------------------------------------------------------
# Table 1


def _table1_variables(ctx: Context) -> list[tuple[str, str, object, str]]:
    """(score column, label, instrument, subscale) of every scored subscale (and the min/max index)."""
    scores = ctx.res.get("scores")
    if scores is None:
        return []
    out = []
    for inst in ctx.instruments:
        for sub in inst.subscales:
            col = f"{inst.name}_{sub}"
            if col in scores and pd.api.types.is_numeric_dtype(scores[col]):
                out.append((col, f"{_subscale_label(ctx, inst, sub)} ({short_name(inst)})", inst, sub))
        if inst.kind == "minmax" and "minmax_index" in scores:
            out.append(("minmax_index", ctx.T("table1_minmax_index"), inst, None))
    return out


def _alpha_of(ctx: Context, inst, sub) -> float:
    rel = ctx.res.get("reliability")
    if rel is None or sub is None:
        return float("nan")
    r = rel[(rel["instrument"] == inst.name) & (rel["subscale"] == sub) & (rel["group_column"] == "all")]
    return float(r["alpha"].iloc[0]) if len(r) else float("nan")


def _stars(p) -> str:
    if not _finite(p):
        return ""
    return "**" if p < 0.01 else ("*" if p < 0.05 else "")


def table1(ctx: Context) -> Table | None:
    """APA Table 1: n, M, SD of each score, Cronbach's alpha on the diagonal, correlations with 95% CIs below it."""
    T = ctx.T
    variables = _table1_variables(ctx)
    if not variables:
        return None
    frame = ctx.res["scores"][[c for c, *_ in variables]].astype(float)
    corr = correlation_table(frame)
    lookup = {(r.variable_1, r.variable_2): r for r in corr.itertuples(index=False)}
    rows = []
    for i, (col, label, inst, sub) in enumerate(variables):
        x = frame[col]
        row = [f"{i + 1}. {label}", fmt_int(x.notna().sum()), fmt_num(x.mean()), fmt_num(x.std(ddof=1))]
        for j, (col2, *_rest) in enumerate(variables):
            if j < i:
                r = lookup[(col2, col)]
                row.append(f"{fmt_bounded(r.r)}{_stars(r.p)} {fmt_ci(r.ci_low, r.ci_high)}" if _finite(r.r) else DASH)
            elif j == i:
                a = _alpha_of(ctx, inst, sub)
                row.append(f"({fmt_bounded(a)})" if _finite(a) else DASH)
            else:
                row.append("")
        rows.append(row)
    ns = [int(n) for n in corr["n"]] if len(corr) else [int(frame.notna().all(axis=1).sum())]
    n_text = fmt_int(min(ns)) if min(ns) == max(ns) else f"{fmt_int(min(ns))}–{fmt_int(max(ns))}"
    columns = [T("table1_variable"), "n", "M", "SD"] + [str(k + 1) for k in range(len(variables))]
    return Table(columns, rows, caption=T("table1_caption"), note=T("table1_note", n=n_text),
                 numeric=list(range(1, len(columns))))

