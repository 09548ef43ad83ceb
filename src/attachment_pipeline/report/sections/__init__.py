"""The report's sections, one module each, in the order the report shows them (:data:`SECTIONS`)."""

from __future__ import annotations

from .couples import section_couples
from .dimensions import section_dimensions
from .factors import section_factors
from .hypotheses import section_hypotheses
from .irt import section_irt
from .items import section_items
from .methods import section_methods
from .overview import section_overview
from .provenance import section_provenance
from .quality import section_quality
from .reliability import section_reliability
from .styles import section_styles

SECTIONS = (section_overview, section_methods, section_quality, section_items, section_reliability, section_factors, section_irt,
            section_dimensions, section_styles, section_couples, section_hypotheses, section_provenance)
