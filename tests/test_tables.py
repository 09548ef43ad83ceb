"""tables.py: the CSV writer's own float formatting writes exactly what pandas' float_format writes."""

import numpy as np
import pandas as pd

from attachment_pipeline.tables import FLOAT_FORMAT, write_csv


def test_large_tables_have_the_bytes_of_pandas_float_format(tmp_path):
    rng = np.random.default_rng(1)
    n = 3000  # above the size where write_csv formats the floats itself
    df = pd.DataFrame({"id": [f"R{i}" for i in range(n)], "a": rng.normal(size=n),
                       "b": rng.integers(1, 8, n).astype(float), "c": rng.normal(size=n).astype(np.float32),
                       "s": ["x", "y"] * (n // 2), "i": np.arange(n)})
    df.loc[::7, "a"] = np.nan
    df.loc[3, "a"], df.loc[5, "a"], df.loc[6, "a"] = -0.0, np.inf, -np.inf
    df.loc[9, "b"], df.loc[11, "b"] = 1e-300, 123456789012.0
    for frame, index in ((df, False), (df.set_index("id"), True)):
        ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
        write_csv(frame, ours, index=index)
        frame.to_csv(theirs, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")
        assert ours.read_bytes() == theirs.read_bytes()
