"""The notebooks as Colab runs them: the package built as a wheel and installed beside a torch that is already there,
each notebook run by nbdev's runner from a folder outside the repository, with a fresh cache folder.

The environment is a new virtualenv (no pip, no packages) that sees the project venv's site-packages through a `.pth`
file, so torch, fastai and nbdev are found as on Colab, but not the project's editable install: a `.pth` line adds a
folder to `sys.path` without processing the `.pth` files inside it, and the editable finder is installed by one. The
wheel goes into the new venv, and the run checks that `import galaxy_fastai` resolves there, not to the checkout.
No real data is visible (`GZ2_SUBSET` and `GALAXY_DATA` unset, no `shared/` above the working folder), as on Colab.
25 s on the 2-core development machine when it is idle, about 100 s under a load of 8 (wheel, venv, two
notebooks); not flagged slow.
"""
import os, shutil, subprocess, sys, sysconfig
from pathlib import Path

import pytest
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ('00_selection', '03_data')
SKIP_FLAGS = get_config(ROOT).tst_flags.split()
FORCE_FLAGS = os.environ.get('GALAXY_FASTAI_FLAGS', '').split()

RUN_NB = r'''
import sys, galaxy_fastai
from pathlib import Path
where = Path(galaxy_fastai.__file__).resolve()
assert where.is_relative_to(Path(sys.prefix).resolve()), f'galaxy_fastai imported from {where}, not the wheel'
assert not where.is_relative_to(Path(sys.argv[2]).resolve()), f'galaxy_fastai imported from the checkout: {where}'
print('galaxy_fastai', galaxy_fastai.__version__, 'from', where.parent)
from nbdev.test import test_nb
ok, secs = test_nb(sys.argv[1], skip_flags=sys.argv[3].split(), force_flags=sys.argv[4].split(), cell_timeout=900)
print(f'{Path(sys.argv[1]).name}: {"passed" if ok else "FAILED"} in {secs:.0f} s')
sys.exit(0 if ok else 1)
'''


def build_wheel(dest:Path) -> Path:
    "A wheel of the package, built from a copy of the files packaging reads (nothing is written to the checkout)."
    src = dest/'src'
    shutil.copytree(ROOT/'galaxy_fastai', src/'galaxy_fastai', ignore=shutil.ignore_patterns('__pycache__'))
    for f in ('pyproject.toml', 'README.md'): shutil.copy(ROOT/f, src/f)
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
                        '--disable-pip-version-check', str(src), '-w', str(dest)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels = list(dest.glob('galaxy_fastai-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def colab_python(dest:Path, wheel:Path) -> Path:
    "The python of a new venv with the project venv's packages (not its editable install) and the wheel installed."
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(dest)], check=True)
    py = dest/'bin'/'python'
    purelib = subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib)/'_preinstalled.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')   # torch & co, as on Colab
    r = subprocess.run([py, '-m', 'pip', 'install', '--no-deps', '--ignore-installed', '-q',
                        '--disable-pip-version-check', str(wheel)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return py


@pytest.fixture(scope='module')
def colab(tmp_path_factory):
    "(python, working folder, environment) of a Colab-like session."
    tmp = tmp_path_factory.mktemp('colab')
    py = colab_python(tmp/'venv', build_wheel(tmp/'wheel'))
    work = tmp/'content'; work.mkdir()
    drop = {'PYTHONPATH', 'VIRTUAL_ENV', 'GZ2_SUBSET', 'GALAXY_DATA', 'GALAXY_FASTAI_HOME'}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(GALAXY_FASTAI_HOME=str(tmp/'home'), MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    return py, work, env


def test_wheel_is_what_imports(colab):
    py, work, env = colab
    r = subprocess.run([py, '-c', 'import galaxy_fastai, sys; print(galaxy_fastai.__file__); print(sys.prefix)'],
                       cwd=work, env=env, capture_output=True, text=True, check=True)
    module, prefix = (Path(s).resolve() for s in r.stdout.split())
    assert module.is_relative_to(prefix) and not module.is_relative_to(ROOT), r.stdout


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_notebook_from_wheel(colab, name):
    py, work, env = colab
    nb = shutil.copy(ROOT/'nbs'/f'{name}.ipynb', work)
    r = subprocess.run([py, '-c', RUN_NB, nb, str(ROOT), ' '.join(SKIP_FLAGS), ' '.join(FORCE_FLAGS)],
                       cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f'{name} failed as Colab runs it:\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}'
    assert 'passed' in r.stdout.splitlines()[-1]


COLAB_MARK = "if 'google.colab' in sys.modules:"


def test_every_numbered_notebook_opens_with_the_colab_cell():
    "Each numbered notebook's first cell installs the package on Colab only, and is hidden from the docs."
    import nbformat
    for p in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')):
        first = nbformat.read(p, as_version=4).cells[0]
        assert first.cell_type == 'code' and COLAB_MARK in first.source, f'{p.name}: no Colab cell first'
        assert '#| hide' in first.source, f'{p.name}: the Colab cell must be hidden from the docs'


def test_colab_cell_installs_the_repository_only_on_colab(monkeypatch):
    "Run the cell as Colab would (with `google.colab` imported) and as anywhere else: pip only on Colab."
    import nbformat, types
    from unittest import mock
    src = nbformat.read(ROOT/'nbs'/'00_selection.ipynb', as_version=4).cells[0].source
    repo = get_config(ROOT).git_url
    with mock.patch('subprocess.run') as run:
        exec(src, {})
        assert not run.called
        monkeypatch.setitem(sys.modules, 'google.colab', types.ModuleType('google.colab'))
        exec(src, {})
        cmd = run.call_args.args[0]
        assert cmd[1:4] == ['-m', 'pip', 'install'] and cmd[-1] == f'git+{repo}', cmd
