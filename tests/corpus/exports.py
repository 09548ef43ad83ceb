"""Survey exports as researchers have them, built from a small seeded sample.

Each builder writes one file the way the survey tool or statistics package writes it,
so that tests run the pipeline from the raw file:

* :func:`qualtrics_csv` - Qualtrics "CSV" (three header rows: names, question texts with
  commas and line breaks, ``{"ImportId": ...}``), with numeric values or choice text
  (answer labels, English or Dutch; checkbox statements as their text or blank), metadata
  columns (IP address, recipient names and e-mail, location, preview and unfinished
  responses);
* :func:`qualtrics_legacy_csv` - the legacy exporter (V1..V10 over a ResponseID row);
* :func:`qualtrics_xlsx` - Qualtrics "Excel" (the same three rows in a workbook);
* :func:`qualtrics_sav` - Qualtrics "SPSS" (value labels, Finished 0/1 labelled False/True);
* :func:`spss_sav` - a lab's own SPSS file with user-missing values (-9, 99);
* :func:`plain_csv` - the project's own layout (``respondent_id``, ``ecr_1``.., ``mm_1``..).

``sample(n, seed)`` gives the answers: ECR-R 1-7, checklist ticks 0/1, gender, age.
Nothing here is random beyond the seed; the same call writes the same bytes (xlsx and
sav aside, whose containers carry time stamps).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from attachment_pipeline.instruments import load_instrument

ECR_R = load_instrument("ecr_r")
MINMAX = load_instrument("minmax")

EN_7 = ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree",
        "Agree", "Strongly agree"]
NL_7 = ["Helemaal mee oneens", "Mee oneens", "Enigszins mee oneens", "Neutraal", "Enigszins mee eens", "Mee eens",
        "Helemaal mee eens"]
EN_5 = ["Strongly disagree", "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree", "Strongly agree"]

#: Qualtrics metadata columns before the questions, as its current exporter writes them.
META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
        "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
        "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage"]


def sample(n: int = 60, seed: int = 1, scale: int = 7) -> pd.DataFrame:
    """Answers of ``n`` respondents: ``ecr_1..36`` (1..scale), ``mm_1..22`` (0/1), gender, age."""
    rng = np.random.default_rng(seed)
    anx = rng.normal(0, 1, n)
    avo = rng.normal(0, 1, n)
    cols = {}
    for item in ECR_R.items:
        trait = anx if item.subscale == "anxiety" else avo
        latent = (trait if not item.reverse else -trait) + rng.normal(0, 1, n)
        cols[f"ecr_{item.n}"] = np.clip(np.round((scale + 1) / 2 + latent * scale / 5), 1, scale).astype(int)
    for k in range(1, 23):
        cols[f"mm_{k}"] = (rng.random(n) < 0.4).astype(int)
    frame = pd.DataFrame(cols)
    frame.insert(0, "age", rng.integers(19, 70, n))
    frame.insert(0, "gender", rng.choice(["female", "male"], n))
    return frame


def _meta(n: int, numeric: bool, preview: int = 0, unfinished: int = 0, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01 09:00:00") + pd.to_timedelta(np.arange(n) * 3571, unit="s")
    finished = np.ones(n, dtype=int)
    if unfinished:
        finished[-unfinished:] = 0
    channel = np.array(["anonymous"] * n, dtype=object)
    if preview:
        channel[:preview] = "preview"
    progress = np.where(finished == 1, 100, rng.integers(10, 90, n))
    return pd.DataFrame({
        "StartDate": start.strftime("%Y-%m-%d %H:%M:%S"),
        "EndDate": (start + pd.Timedelta(minutes=12)).strftime("%Y-%m-%d %H:%M:%S"),
        "Status": np.where(channel == "preview", 1, 0) if numeric else np.where(channel == "preview", "Survey Preview",
                                                                                   "IP Address"),
        "IPAddress": [f"145.97.{i // 250}.{i % 250 + 1}" for i in range(n)],
        "Progress": progress,
        "Duration (in seconds)": rng.integers(300, 1500, n),
        "Finished": finished if numeric else np.where(finished == 1, "True", "False"),
        "RecordedDate": (start + pd.Timedelta(minutes=13)).strftime("%Y-%m-%d %H:%M:%S"),
        "ResponseId": [f"R_{''.join(rng.choice(list('abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'), 15))}"
                       for _ in range(n)],
        "RecipientLastName": [f"Lastname{i}" for i in range(n)],
        "RecipientFirstName": [f"First{i}" for i in range(n)],
        "RecipientEmail": [f"person{i}@example.org" for i in range(n)],
        "ExternalReference": [f"EXT{i:04d}" for i in range(n)],
        "LocationLatitude": np.round(52.0 + rng.random(n), 4),
        "LocationLongitude": np.round(4.5 + rng.random(n), 4),
        "DistributionChannel": channel,
        "UserLanguage": "EN",
    })


def qualtrics_frame(data: pd.DataFrame, *, numeric: bool = True, labels=EN_7, preview: int = 0,
                    unfinished: int = 0, checkbox: bool = True) -> tuple[pd.DataFrame, list, list]:
    """The columns, question texts and import ids of a Qualtrics export of ``data``.

    ECR-R items become ``Q1_1``..``Q1_36`` (a matrix question), the checklist ``Q2_1``..``Q2_22``
    (a multiple-answer question: ticked = 1 or the statement's text, unticked = blank when
    ``checkbox``), gender ``Q3`` and age ``Q4``. Unfinished responses have their last items blank.
    """
    n = len(data)
    out = _meta(n, numeric, preview, unfinished)
    texts = [c if c not in ("Duration (in seconds)",) else c for c in META]
    ids = [json.dumps({"ImportId": c.replace(" (in seconds)", "").replace(" ", "")[0].lower()
                       + c.replace(" (in seconds)", "").replace(" ", "")[1:]}) for c in META]
    for item in ECR_R.items:
        values = data[f"ecr_{item.n}"]
        out[f"Q1_{item.n}"] = values if numeric else values.map(lambda v: labels[int(v) - 1])
        texts.append(f"Please indicate how much you agree with each statement, about close relationships in "
                     f"general.\n - {item.text['en']}")
        ids.append(json.dumps({"ImportId": f"QID1_{item.n}"}))
    for item in MINMAX.items:
        ticked = data[f"mm_{item.n}"] == 1
        if numeric:
            col = np.where(ticked, "1", "" if checkbox else "0")
        else:
            col = np.where(ticked, item.text["en"], "" if checkbox else "not ticked")
        out[f"Q2_{item.n}"] = col
        texts.append(f"Which statements fit you? (tick all that apply) - {item.text['en']}")
        ids.append(json.dumps({"ImportId": f"QID2_{item.n}"}))
    out["Q3"] = data["gender"].str.capitalize() if not numeric else data["gender"].map({"female": 1, "male": 2}).fillna(3)
    texts.append("What is your gender? - Selected Choice")
    ids.append(json.dumps({"ImportId": "QID3"}))
    out["Q4"] = data["age"]
    texts.append("How old are you?")
    ids.append(json.dumps({"ImportId": "QID4_TEXT"}))
    if unfinished:
        tail = [c for c in out.columns if c.startswith("Q1_")][-10:] + [c for c in out.columns if c.startswith("Q2_")]
        out.loc[out.index[-unfinished:], tail] = "" if not numeric else np.nan
    return out, texts, ids


def qualtrics_csv(path: Path, data: pd.DataFrame, **kw) -> Path:
    """A Qualtrics CSV export (UTF-8 with BOM, CRLF line ends, every cell quoted, as the exporter writes)."""
    frame, texts, ids = qualtrics_frame(data, **kw)
    head = pd.DataFrame([texts, ids], columns=frame.columns)
    body = pd.concat([head, frame.astype(object)], ignore_index=True)
    path.write_bytes(b"\xef\xbb\xbf" + body.to_csv(index=False, quoting=1, lineterminator="\r\n").encode("utf-8"))
    return path


def qualtrics_legacy_csv(path: Path, data: pd.DataFrame, **kw) -> Path:
    """The legacy Qualtrics exporter: V1..V10 names over a ResponseID row that also holds the question texts."""
    frame, texts, _ = qualtrics_frame(data, **kw)
    legacy = {"ResponseId": "ResponseID", "RecipientFirstName": "Name", "ExternalReference": "ExternalDataReference",
              "RecipientEmail": "EmailAddress", "IPAddress": "IPAddress", "Status": "Status",
              "StartDate": "StartDate", "EndDate": "EndDate", "Finished": "Finished"}
    keep = list(legacy) + [c for c in frame.columns if c.startswith("Q")]
    frame = frame[keep]
    names = [f"V{k + 1}" for k in range(len(legacy))] + [c for c in frame.columns if c.startswith("Q")]
    second = list(legacy.values()) + [t for c, t in zip(qualtrics_frame(data, **kw)[0].columns, texts) if c.startswith("Q")]
    frame.columns = names
    body = pd.concat([pd.DataFrame([second], columns=names), frame.astype(object)], ignore_index=True)
    body.to_csv(path, index=False, lineterminator="\r\n")
    return path


def qualtrics_xlsx(path: Path, data: pd.DataFrame, **kw) -> Path:
    """A Qualtrics Excel export: the same three header rows on the first sheet."""
    frame, texts, ids = qualtrics_frame(data, **kw)
    head = pd.DataFrame([texts, ids], columns=frame.columns)
    pd.concat([head, frame.astype(object)], ignore_index=True).to_excel(path, index=False)
    return path


def qualtrics_sav(path: Path, data: pd.DataFrame, **kw) -> Path:
    """A Qualtrics SPSS export: numeric answers with value labels, texts as strings."""
    import pyreadstat

    frame, texts, _ = qualtrics_frame(data, numeric=True, **kw)
    frame = frame.copy()
    for c in frame.columns:
        if c.startswith("Q2_"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce")
    frame["Q3"] = frame["Q3"].astype(float)
    value_labels = {f"Q1_{i.n}": {float(k + 1): t for k, t in enumerate(EN_7)} for i in ECR_R.items}
    value_labels.update({"Finished": {0.0: "False", 1.0: "True"}, "Q3": {1.0: "Female", 2.0: "Male", 3.0: "Other"},
                         "Status": {0.0: "IP Address", 1.0: "Survey Preview"}})
    labels = dict(zip(frame.columns, [t[:250] for t in texts]))
    frame.columns = [c.replace(" (in seconds)", "_in_seconds").replace(" ", "_") for c in frame.columns]
    labels = {k.replace(" (in seconds)", "_in_seconds").replace(" ", "_"): v for k, v in labels.items()}
    pyreadstat.write_sav(frame, str(path), column_labels=labels, variable_value_labels=value_labels)
    return path


def spss_sav(path: Path, data: pd.DataFrame, *, user_missing=(-9.0, 99.0), n_missing: int = 12, seed: int = 3) -> Path:
    """A lab's own SPSS file: ``pp`` ids, items ``ecr1``.., ``mm1``.., user-missing codes declared in the file."""
    import pyreadstat

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"pp": [f"pp{i:03d}" for i in range(len(data))], "sex": data["gender"].map({"female": 1.0, "male": 2.0})})
    for k in range(1, 37):
        frame[f"ecr{k}"] = data[f"ecr_{k}"].astype(float)
    for k in range(1, 23):
        frame[f"mm{k}"] = data[f"mm_{k}"].astype(float)
    rows = rng.integers(0, len(data), n_missing)
    cols = rng.integers(1, 37, n_missing)
    for r, c in zip(rows, cols):
        frame.loc[r, f"ecr{c}"] = user_missing[r % len(user_missing)]
    missing = {f"ecr{k}": list(user_missing) for k in range(1, 37)}
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"sex": {1.0: "vrouw", 2.0: "man"}},
                         missing_ranges=missing)
    return path


def plain_csv(path: Path, data: pd.DataFrame, couples: bool = False) -> Path:
    """The project's own layout: respondent_id, gender, age, ecr_1..36, mm_1..22 (optionally couple columns)."""
    frame = data.copy()
    frame.insert(0, "respondent_id", [f"P{i:03d}" for i in range(len(frame))])
    if couples:  # pairs of rows; an odd last respondent has no partner in the data
        n = len(frame)
        frame.insert(1, "couple_id", [f"C{i // 2}" if i < n - n % 2 else "" for i in range(n)])
        frame.insert(2, "partner", [("A", "B")[i % 2] if i < n - n % 2 else "" for i in range(n)])
    frame.to_csv(path, index=False)
    return path


def qualtrics_cohort(path: Path, **over) -> dict:
    """The cohort config a researcher writes for a Qualtrics export built here."""
    cohort = {"responses": str(path), "instruments": ["ecr_r", "minmax"], "id_column": "ResponseId",
              "items": {"ecr_r": "Q1_{n}", "minmax": "Q2_{n}"}, "groups": ["Q3"], "covariates": ["Q4"]}
    cohort.update(over)
    return {k: v for k, v in cohort.items() if v is not None}
