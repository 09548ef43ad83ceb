"""Reproducible analysis of adult-attachment questionnaire studies (ECR-R, ECR, Hendrix min/max checklist).

The public API (``import attachment_pipeline as ap``), functions over DataFrames of raw
answers, one row per respondent and one column per item (see :mod:`attachment_pipeline.api`):

- ``ap.load_instrument("ecr_r")``, ``ap.available_instruments()``: the shipped instruments
  (package data) or your own folder (``directory=``);
- ``ap.reverse_key(answers, "ecr_r")``: keyed items;
- ``ap.score(answers, "ecr_r")``: subscale means (or the min/max checklist's scores);
- ``ap.cronbach_alpha(keyed_items)``: alpha of raw answers (refuses a covariance matrix);
  ``ap.alpha_from_covariance(C)``: alpha of a covariance matrix (refuses raw answers);
- ``ap.classify_styles(scores, "midpoint", instrument="ecr_r")``: the four attachment styles;
- ``ap.example_answers()``: simulated ECR-R answers to try them on.

The pipeline's modules, one per stage: ``instruments``, ``config``, ``io``, ``validate``,
``scoring``, ``reliability``, ``factors``, ``irt``, ``classify``, ``dyads``, ``hypotheses``,
``pooled``, ``exports``, ``steps`` (the file-level steps the Snakemake rules call). The API
names are loaded on first use, so ``import attachment_pipeline.vocabulary`` stays light.
(The styles verb is ``classify_styles``: ``ap.classify`` is the submodule
:mod:`attachment_pipeline.classify`, which a function of the same name would shadow.)

>>> import attachment_pipeline as ap
>>> ap.load_instrument("ecr_r").n_items
36
"""

__version__ = "0.1.0"

__all__ = ["load_instrument", "available_instruments", "reverse_key", "score", "cronbach_alpha",
           "alpha_from_covariance", "classify_styles", "example_answers"]


def __getattr__(name):
    """Load the public API on first use (PEP 562), so importing a light submodule loads no numpy."""
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'attachment_pipeline' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
