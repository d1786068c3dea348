# tbspin: two commands on a fresh machine -- `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.tbspin-installed

.PHONY: demo test lint bench docs notebooks clean

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# Kwant is the optional extra tbspin[kwant] (k·p models, slabs); `make` installs everything.
	# Kwant 1.5.0 ships only an sdist whose C sources predate numpy 2: regenerate them with
	# Cython against the numpy in this venv (never reuse a cached wheel built for another numpy).
	$(PIP) install numpy scipy cython setuptools wheel tinyarray sympy
	$(PY) -c "import kwant" 2>/dev/null || \
	  $(PIP) install --no-cache-dir --no-build-isolation \
	    --config-settings=--build-option=--cython kwant==1.5.0
	$(PIP) install -e '.[test,kwant]'
	$(PY) -c "import kwant, pythtb, tbspin; print('tbspin', tbspin.__version__, 'kwant', kwant.__version__)"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tbspin reproduce fig1 --out results

test: $(STAMP)
	$(VENV)/bin/ruff check tbspin models tests benchmarks tutorials
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check tbspin models tests benchmarks tutorials
	$(PY) -m mypy

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs/api build/docs
	@echo "documentation: build/docs/index.html"

# Jupyter notebooks from the jupytext percent scripts (the tests execute the scripts themselves).
notebooks: $(STAMP)
	mkdir -p notebooks
	for f in tutorials/[0-9][0-9]_*.py; do \
	  $(VENV)/bin/jupytext --to notebook --output notebooks/$$(basename $${f%.py}).ipynb $$f || exit 1; \
	done

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) results build *.egg-info notebooks
