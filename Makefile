# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Both create .venv, install once (a stamp file makes the second run install nothing), then work.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact pins for this kind of machine only; pyproject.toml declares ranges for everyone else.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true
OUT ?= outputs/demo

.PHONY: install demo test test-slow check-sync lint docs readme bench clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(TORCH_PINS) 2>&1 | $(QUIET_PIP)
	$(PIP) -e '.[dev]' $(TORCH_PINS) 2>&1 | $(QUIET_PIP)
	$(BIN)/python -c "import torch, torchvision, fastai, nbdev; print('installed torch', torch.__version__, 'fastai', fastai.__version__, 'nbdev', nbdev.__version__)"
	touch $@

## The main job on the embedded default data (mock galaxies).
demo: install
	$(BIN)/galaxy-demo --out $(OUT)

## Library in sync with notebooks, notebooks clean, lint, then every notebook under nbdev's runner (`tst_flags` of
## pyproject.toml skipped unless named in GALAXY_FASTAI_FLAGS), then tests/ under pytest (its summary line is the last).
NBDEV_TEST = $(BIN)/nbdev-test --n-workers 2 --flags "$$GALAXY_FASTAI_FLAGS"
test: install check-sync lint
	$(NBDEV_TEST)
	$(BIN)/python -m pytest -q

## Notebooks are the source: exporting and cleaning must change nothing.
check-sync: install
	@tmp=$$(mktemp -d); cp -r galaxy_fastai nbs $$tmp/; \
	$(BIN)/nbdev-export; $(BIN)/nbdev-clean; \
	if ! diff -rq -x __pycache__ $$tmp/galaxy_fastai galaxy_fastai; then \
	  echo "FAIL: nbdev-export changed the library: edit the notebooks, re-export and commit"; exit 1; fi; \
	if ! diff -rq -x .ipynb_checkpoints -x _outputs $$tmp/nbs nbs; then \
	  echo "FAIL: nbdev-clean changed notebooks: run nbdev-clean and commit"; exit 1; fi; \
	rm -rf $$tmp; echo "library and notebooks in sync and clean"

## ruff (pyproject.toml [tool.ruff]) on the exported library, the tools and the tests: notebooks are linted
## through the modules they export, so fix a finding in the notebook, then nbdev-export.
lint: install
	$(BIN)/ruff check galaxy_fastai tools tests

## The same suite with the `slow` cells forced on (real-data checks and benchmarks).
test-slow: install
	export GALAXY_FASTAI_FLAGS=slow; $(NBDEV_TEST) && $(BIN)/python -m pytest -q

## The docs site in _docs/ from the outputs saved in the notebooks: `nbdev-docs` where Quarto is on PATH; otherwise
## nbdev's own processing, then MkDocs + Material (tools/build_docs.py, mkdocs.yml). README.md follows nbs/index.ipynb.
docs: install
	if command -v quarto >/dev/null 2>&1; then $(BIN)/nbdev-docs; else $(BIN)/python tools/build_docs.py site; fi
	$(BIN)/python tools/build_docs.py readme

## README.md from nbs/index.ipynb (tests/test_docs.py fails when they are out of step).
readme: install
	$(BIN)/python tools/build_docs.py readme

clean-venv:
	rm -rf $(VENV)
