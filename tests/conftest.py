"""Shared fixtures."""

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture
def write_csv(tmp_path):
    def _write(frame: pd.DataFrame, name: str = "responses.csv", **kw) -> Path:
        path = tmp_path / name
        frame.to_csv(path, index=False, **kw)
        return path
    return _write
