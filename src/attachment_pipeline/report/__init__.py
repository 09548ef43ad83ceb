"""The cohort report (``report.html``) and the study page (``index.html``).

One self-contained HTML file per cohort: figures are embedded PNG ``data:``
URIs, the style sheet is inline, nothing is fetched when the file is opened,
so it can be mailed, archived or printed into a thesis appendix. The report
formats and plots what the pipeline has already computed (the tables in
``results/<study>/<cohort>/``); it computes no statistic of its own beyond
counts (answers per category, couples in the data).

Sections (ids in brackets; each is present in every report, with a plain
sentence when its data are absent):

1. Overview (``overview``): study, cohort, instruments, respondents, date.
2. Data quality (``quality``): reading facts, validation counts, exclusions
   with reasons, missing answers per item (heat map).
3. Items (``items``): answer distributions per item (diverging stacked bars),
   reverse-keyed items shown as answered and marked.
4. Reliability (``reliability``): alpha with Feldt and bootstrap intervals,
   omega; item statistics with flagged items highlighted.
5. Factor structure (``factors``): KMO and Bartlett, scree with parallel
   analysis, EFA loadings heat map with the theoretical subscales, CFA fit
   with the usual cut-offs.
6. Item response theory (``irt``): graded response model fit, item parameters
   with S-X2 item fit, item and test information curves, IRT scores against the
   mean scores, differential item functioning across groups and partner roles.
7. The two dimensions (``dimensions``): anxiety against avoidance with the cut
   lines of the primary method and the quadrants named.
8. Styles (``styles``): counts per method, agreement, min/max index and type
   by style.
9. Couples (``couples``): partner against partner, distinguishability, partner
   similarity, measurement invariance across the roles, pairing table.
10. Hypotheses (``hypotheses``): APA table, forest plot, verdicts in words,
    preregistration status.
11. Provenance (``provenance``): sha256 of every input and table, the config
    and its hash, package versions, seed, git commit, run time.

Privacy: no respondent id, couple id or free-text answer is written; counts
from 1 to ``min_cell - 1`` in tables by group or category are shown as
``<min_cell`` (their percentages as ``–``) and are not drawn in bar charts;
zero counts are shown (a structural zero identifies no one). Numbers follow
APA style: no leading zero for values that cannot exceed 1 (``alpha = .94``,
``p < .001``), a leading zero otherwise (``chi2``, ``t``, means). A Dutch report
(``language: nl``) uses the decimal comma (``,94``, ``p < ,001``, intervals
``[,16; ,34]``); the CSV tables keep the decimal point.

Layout (DESIGN.md section 3): :mod:`.formatting` (APA numbers), :mod:`.blocks`
(building blocks and the section context), :mod:`.context` (reading a cohort's
tables, shared label helpers), :mod:`.sections` (one module per section),
:mod:`.provenance`, :mod:`.figures`, :mod:`.i18n` (texts), :mod:`.decimal_mark`,
:mod:`.texts` (runner texts in the report's language), :mod:`.methods` (methods
paragraph, Table 1, references), :mod:`.word` (``report.docx``), :mod:`.build`
(rendering) and ``templates/`` (package data, found with :mod:`importlib.resources`).

Example
-------
>>> fmt_p(0.0004), fmt_p(0.0312), fmt_bounded(0.9412), fmt_num(12.3456)
('< .001', '.031', '.94', '12.35')
"""

from __future__ import annotations

from . import figures as fg  # noqa: F401
from .blocks import Bullets, Context, DefList, Heading, Image, Para, Pre, References, Section, Table  # noqa: F401
from .word import word_bytes, write_word  # noqa: F401
from .build import POOLED_TABLES, TEMPLATES, build_report, build_study_index, pooled_blocks, render  # noqa: F401
from .context import (RESULT_FILES, build_context, cohort_instruments, hypothesis_id, load_results,  # noqa: F401
                      readable, score_label, short_name, strip_seed_refs)
from .formatting import (BOUNDED, COUNTS, DASH, fmt_bounded, fmt_ci, fmt_count, fmt_int, fmt_num,  # noqa: F401
                         fmt_p, fmt_value, p_text, suppressed)
from .provenance import PACKAGES, config_hash, git_commit_of, package_versions, prereg_status, sha256_file  # noqa: F401
from .methods import REFERENCES, methods_paragraphs, reference_runs, table1  # noqa: F401
from .i18n import LANGUAGES, STRINGS, Translator  # noqa: F401
from .sections import SECTIONS  # noqa: F401
from .sections.couples import partner_pairs, section_couples  # noqa: F401
from .sections.dimensions import primary_cuts, section_dimensions  # noqa: F401
from .sections.factors import fit_verdict, section_factors  # noqa: F401
from .sections.hypotheses import fmt_statistic, section_hypotheses  # noqa: F401
from .sections.irt import section_irt  # noqa: F401
from .sections.items import answer_percentages, raw_answers, section_items  # noqa: F401
from .sections.methods import section_methods  # noqa: F401
from .sections.overview import section_overview  # noqa: F401
from .sections.provenance import section_provenance  # noqa: F401
from .sections.quality import section_quality  # noqa: F401
from .sections.reliability import section_reliability  # noqa: F401
from .sections.styles import section_styles  # noqa: F401
