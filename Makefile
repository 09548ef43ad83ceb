# The two commands a newcomer types: `make run` (demo cohort end to end) and
# `make test` (the test suite). Both build the local virtual environment .venv
# from the pinned runtime requirements.lock first (make test adds the test-only
# pins of requirements-test.lock); nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp
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

$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(BIN)/pip install --quiet -r requirements.lock -r requirements-test.lock
	touch $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

# two worker processes, whole test files each (the long end-to-end files then run side by side)
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

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

# Regenerate both locks from pyproject.toml in a fresh venv: the runtime set (package + SLURM extra),
# then what the [test] extra adds beyond it.
lock:
	rm -rf /tmp/ap-lock-venv && $(PYTHON) -m venv /tmp/ap-lock-venv
	/tmp/ap-lock-venv/bin/pip install --quiet ".[cluster]"
	/tmp/ap-lock-venv/bin/pip freeze | grep -v '^attachment' > /tmp/ap-lock-runtime.txt
	/tmp/ap-lock-venv/bin/pip install --quiet ".[test,cluster]"
	/tmp/ap-lock-venv/bin/pip freeze --all | grep -v '^attachment' | grep -v '^pip==' \
		| grep -vxF -f /tmp/ap-lock-runtime.txt > /tmp/ap-lock-test.txt
	{ echo "# Runtime pins for make run / make test / CI (pip install -r requirements.lock): the package and its"; \
	  echo "# SLURM extra. Test-only pins are in requirements-test.lock. Regenerate both: make lock."; \
	  cat /tmp/ap-lock-runtime.txt; } > requirements.lock
	{ echo "# Test-only pins (pip install -r requirements.lock -r requirements-test.lock), used by make test and CI:"; \
	  echo "# the package's [test] extra and what it pulls in beyond requirements.lock. Regenerate: make lock."; \
	  cat /tmp/ap-lock-test.txt; } > requirements-test.lock
	{ sed '/^  - pip:$$/q' workflow/envs/pipeline.yaml; sed 's/^/      - /' /tmp/ap-lock-runtime.txt; } > /tmp/ap-lock-env.yaml
	mv /tmp/ap-lock-env.yaml workflow/envs/pipeline.yaml

clean:
	rm -rf results/*/ .snakemake
