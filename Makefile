# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv from the repo's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench bench-gpu bench-scale bench-saliency bench-saliency-cv bench-mri-phantom clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,notebooks,timm,export]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/medtl demo --out runs/demo --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-gpu: $(STAMP)
	$(BIN)/python -m benchmarks.gpu

bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.scale

bench-saliency: $(STAMP)
	$(BIN)/python -m benchmarks.saliency

bench-saliency-cv: $(STAMP)
	$(BIN)/python -m benchmarks.saliency_cv --seeds 0 1 2

bench-mri-phantom: $(STAMP)
	$(BIN)/python -m benchmarks.mri_phantom_cv --seeds 0 1

clean:
	rm -rf $(VENV) runs
