# The two commands a newcomer types: `make run` (demo cohort end to end) and
# `make test` (the test suite). Both build the local virtual environment .venv
# from the pinned requirements.lock first; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CORES ?= 2

CONFIG ?= config/config.yaml
STUDY = $(shell sed -n 's/^study: *\([A-Za-z0-9_.-]*\).*/\1/p' $(CONFIG))

.PHONY: run test demo-data bench power calibrate preregister lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest

# Regenerate the shipped simulated data sets byte-identically (see their README.md files).
demo-data: $(STAMP)
	$(BIN)/python -m attachment_pipeline.simulate demo --out data/raw/demo
	$(BIN)/python -m attachment_pipeline.simulate ecr5 --out data/raw/ecr_5point

# Time the pipeline end to end on 10k .. 1M simulated respondents (and R on 50k, if installed).
bench: $(STAMP)
	$(BIN)/python -m attachment_pipeline.bench

# Power of the couple tests by number of couples and effect size (simulated; results/power/).
power: $(STAMP)
	$(BIN)/python -m attachment_pipeline.power --out results/power --n-couples 50 100 150 200 300 \
		--effects 0 0.1 0.2 0.3 --n-sim 200 --seed 20261124

# Type I error under realistic nulls and power of every couple and family test (results/calibration/,
# docs/calibration.md); about 5 minutes. A quick version runs in `make test` (tests/test_calibrate.py).
calibrate: $(STAMP)
	$(BIN)/python -m attachment_pipeline.calibrate --out results/calibration --n-sim 1000 --n-couples 150 \
		--n-singles 100 --seed 20261124
	cp results/calibration/calibration.md docs/calibration.md

# Lock the hypotheses and analysis settings of $(CONFIG) before seeing the data.
preregister: $(STAMP)
	$(BIN)/python -m attachment_pipeline.prereg lock --config $(CONFIG) \
		--out config/preregistration/$(STUDY).lock.json

lock:
	rm -rf /tmp/ap-lock-venv && $(PYTHON) -m venv /tmp/ap-lock-venv
	/tmp/ap-lock-venv/bin/pip install --quiet ".[test,cluster]"
	{ echo "# Pinned versions for make run / make test / CI (pip install -r requirements.lock)."; \
	  echo "# Regenerate: make lock (fresh venv from pyproject.toml, then pip freeze)."; \
	  /tmp/ap-lock-venv/bin/pip freeze | grep -v '^attachment'; } > requirements.lock

clean:
	rm -rf results/*/ .snakemake
