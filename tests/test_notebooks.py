"""The notebooks are executed by `nbdev-test` in `make test`, before pytest (`tst_flags` of pyproject.toml skipped
unless named in GALAXY_FASTAI_FLAGS: `make test-slow` sets `slow`); `tests/test_colab.py` runs two of them again from
an installed wheel. Here only cheap checks that nbdev's runner finds the notebooks and skips what it should: none of
them is executed twice.
"""
import re
from pathlib import Path

from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import nb_test_cells

ROOT = Path(__file__).resolve().parents[1]
CFG = get_config(ROOT)
SKIP_FLAGS = CFG.tst_flags.split()


def test_nbdev_test_finds_the_notebooks():
    "The files `nbdev-test` collects (its own glob) are every notebook of nbs/, numbered ones among them."
    found = {p.name for p in nbglob(CFG.nbs_path, as_path=True)}
    on_disk = {p.name for p in CFG.nbs_path.glob('*.ipynb') if not p.name.startswith(('_', '.'))}
    assert found == on_disk
    assert len([n for n in found if re.match(r'\d\d_', n)]) >= 10, sorted(found)


def test_flagged_cells_are_skipped():
    "`slow` and `gpu` are skipped by default, and a notebook with such cells still has cells to run."
    assert {'slow', 'gpu'} <= set(SKIP_FLAGS)
    nb = CFG.nbs_path/'15_benchmark.ipynb'
    run, forced = nb_test_cells(nb, SKIP_FLAGS), nb_test_cells(nb, SKIP_FLAGS, ['slow'])
    assert run and len(forced) > len(run)
    assert not any(re.search(r'^#\|\s*slow', c.source, re.M) for c in run)


def test_make_test_runs_nbdev_test():
    "`make test` runs nbdev's runner over the notebooks before pytest (the last line stays pytest's summary)."
    rule = re.search(r'^test:.*\n((?:\t.*\n)+)', (ROOT/'Makefile').read_text(), re.M).group(1)
    steps = [s.strip() for s in rule.splitlines()]
    assert steps == ['$(NBDEV_TEST)', '$(BIN)/python -m pytest -q'], steps
