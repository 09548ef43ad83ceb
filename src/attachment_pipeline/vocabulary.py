"""Names shared across layers: styles and their labels, dimensions, min/max types, test directions and corrections.

Plain tuples without imports, so the light modules (the hypothesis registry, the
config checks) can use them without loading numpy.

>>> STYLES[0], MINMAX_TYPES[-1], DIRECTIONS[-1]
('secure', 'maximiser', 'two-sided')
"""

#: The four adult styles (Bartholomew & Horowitz, 1991), in the order every table uses (codes 0..3).
STYLES = ("secure", "preoccupied", "dismissing", "fearful")
#: Display labels of the styles per language (Dutch as in the seed document, section 4.1).
STYLE_LABELS = {
    "en": {
        "secure": "secure",
        "preoccupied": "preoccupied",
        "dismissing": "dismissing (avoidant)",
        "fearful": "fearful (disorganised)",
    },
    "nl": {
        "secure": "veilig",
        "preoccupied": "gepreoccupeerd",
        "dismissing": "vermijdend",
        "fearful": "gedesorganiseerd",
    },
}
#: The two attachment dimensions (Brennan, Clark & Shaver, 1998), in the order every table uses.
DIMENSIONS = ("anxiety", "avoidance")
#: Which styles are high in anxiety and which in avoidance (the quadrants, in STYLES order).
STYLE_DIMENSIONS = {"anxiety": (0, 1, 0, 1), "avoidance": (0, 0, 1, 1)}
#: Min/max typology of the Hendrix checklist, from the minimiser to the maximiser pole.
MINMAX_TYPES = ("minimiser", "balanced", "maximiser")
#: Direction of an alternative hypothesis.
DIRECTIONS = ("greater", "less", "two-sided")
#: Multiple-testing corrections across a cohort's hypotheses.
CORRECTIONS = ("holm", "bh", "weighted_holm", "none")
