"""Reproducible analysis of adult-attachment questionnaire studies (ECR-R, ECR, Hendrix min/max checklist).

Modules, one per stage: ``instruments`` (questionnaire definitions), ``config`` (study
configuration), ``io`` (reading raw exports), ``validate`` (checks at the boundary),
``scoring``, ``reliability``, ``factors``, ``classify``, ``simulate`` and ``steps``
(the file-level steps the Snakemake rules call).
"""

__version__ = "0.1.0"
