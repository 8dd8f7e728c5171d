"""One pytest test per notebook, each run by nbdev's own runner (`nbdev.test.test_nb`).

nbdev's runner honours `#| eval: false` and the `tst_flags` of pyproject.toml (`slow`, `gpu`):
flagged cells are skipped unless named in the environment variable GALAXY_FASTAI_FLAGS
(space separated), which `make test-slow` sets to `slow`.
"""
import os
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook

ROOT = Path(__file__).resolve().parents[1]
CFG = get_config(ROOT)
NOTEBOOKS = sorted(CFG.nbs_path.glob('*.ipynb'))
SKIP_FLAGS = CFG.tst_flags.split()
FORCE_FLAGS = os.environ.get('GALAXY_FASTAI_FLAGS', '').split()


def test_notebooks_found():
    "The suite must never pass by finding nothing to run."
    assert len(NOTEBOOKS) >= 2, f'no notebooks found in {CFG.nbs_path}'


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    ok, secs = run_notebook(nb, skip_flags=SKIP_FLAGS, force_flags=FORCE_FLAGS, basepath=ROOT,
                            showerr=True, cell_timeout=CFG.cell_timeout)
    assert ok, f'{nb.name} failed (traceback above, on stderr)'
