"""Tests of the docs tooling (`tools/build_docs.py`).

Fast, always run: README.md is in step with nbs/index.ipynb; the README and Quarto-replacement
rules; one small notebook rendered through nbdev's preprocessing and nbconvert.

Slow (the whole site in headless Chromium): runs when GALAXY_FASTAI_FLAGS contains `slow` (as
`make test-slow` sets it) or `docs`. It builds the site into `_docs/`, opens every page in Debian's
`chromium` (installed with apt-get when missing and possible, else the test skips saying why),
checks each page loaded with its navigation and that no image is broken, and saves full-page
screenshots of each page to `screenshots/` (untracked; long pages in parts `page-1.png`, ...).
"""
import ast, html, importlib.util, json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT/'screenshots'
FLAGS = os.environ.get('GALAXY_FASTAI_FLAGS', '').split()

_spec = importlib.util.spec_from_file_location('build_docs', ROOT/'tools'/'build_docs.py')
bd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bd)

# ----------------------------------------------------------------------------- README

def test_readme_in_step_with_index():
    "README.md must be exactly what `make readme` writes from nbs/index.ipynb."
    index = ROOT/'nbs'/'index.ipynb'
    if not index.exists(): pytest.skip('nbs/index.ipynb does not exist yet: nothing to keep README.md in step with')
    expected = bd.readme_text(index)
    actual = (ROOT/'README.md').read_text(encoding='utf-8') if (ROOT/'README.md').exists() else ''
    assert actual == expected, 'README.md is not in step with nbs/index.ipynb: run `make readme` and commit README.md'


def _index_nb(tmp_path):
    nb = new_notebook(cells=[
        new_markdown_cell('# galaxy-fastai\n\n> A reproduction.\n\nSee [the data](03_data.ipynb) and [docs](https://x.org/a.ipynb).'),
        new_code_cell('#| hide\nfrom galaxy_fastai.selection import *'),
        new_code_cell('#| eval: false\nmake demo'),
        new_code_cell('print(1+1)', outputs=[new_output('stream', name='stdout', text='2\n')]),
        new_code_cell('#| echo: false\nshow()', outputs=[new_output('display_data', data={'image/png': 'iVBO', 'text/plain': '<Figure>'})]),
        new_code_cell('secret = 1', metadata={'nbdev': {'include': 'false'}}),
        new_code_cell('#| echo: false\nlinks()', outputs=[new_output('display_data', data={'text/markdown': '| [mock](01_mock.ipynb) |'})]),
        new_code_cell('#|export\ndef f(): pass'),
    ])
    path = tmp_path/'index.ipynb'
    nbformat.write(nb, path)
    return path


def test_readme_rules(tmp_path):
    "Markdown as is (notebook links pointed into nbs/), code fenced, text outputs kept, hidden cells and images dropped."
    text = bd.readme_text(_index_nb(tmp_path))
    assert text.startswith(bd.README_BANNER)
    assert '# galaxy-fastai\n\n> A reproduction.' in text
    assert '[the data](nbs/03_data.ipynb)' in text and '(https://x.org/a.ipynb)' in text
    assert '```python\nmake demo\n```' in text and '#| eval' not in text
    assert '```python\nprint(1+1)\n```\n\n```\n2\n```' in text
    assert '| [mock](nbs/01_mock.ipynb) |' in text and 'links()' not in text
    for gone in ('from galaxy_fastai.selection', 'show()', '<Figure>', 'iVBO', 'secret', 'def f'): assert gone not in text
    readme = tmp_path/'README.md'
    assert not bd.write_readme(tmp_path/'index.ipynb', readme, check=True)  # absent: not in step
    bd.write_readme(tmp_path/'index.ipynb', readme)
    assert bd.write_readme(tmp_path/'index.ipynb', readme, check=True)
    assert readme.read_text() == text

# ----------------------------------------------------------------------------- what Quarto would do

def test_quarto_markdown():
    "Link attributes become html, doc-site and notebook links become page links, callouts blockquotes."
    md = bd.quarto_markdown('[source](https://g.com/x.py#L3){target="_blank" style="float:right"}\n'
                            'See [`f`](https://galaxy-fastai.github.io/galaxy-fastai/resnet.html#f) and [data](03_data.ipynb#sec).\n'
                            '## Heading {#sec-h}\n::: {.callout-note}\nbody\n:::\n```\n:::\n```',
                            'https://galaxy-fastai.github.io/galaxy-fastai')
    assert '<a href="https://g.com/x.py#L3" target="_blank" style="float:right">source</a>' in md
    assert '[`f`](resnet.html#f)' in md and '[data](data.html#sec)' in md
    assert '## Heading\n' in md and '> **Note**' in md and '> body' in md
    assert '```\n:::\n```' in md  # code blocks untouched


def test_cell_options_and_pages():
    test_opts = bd.split_options('#| echo: false\n#|hide\n\nx = 1\n#| not an option')
    assert test_opts == ({'echo': 'false', 'hide': 'true'}, 'x = 1\n#| not an option')
    assert bd.is_hidden({'hide': 'true'}) and bd.is_hidden({'include': 'false'}) and not bd.is_hidden({'eval': 'false'})
    assert bd.page_name('11_vis.ipynb') == 'vis.html' and bd.page_name('index.ipynb') == 'index.html'
    assert bd.colab_url('11_vis.ipynb') == \
        'https://colab.research.google.com/github/galaxy-fastai/galaxy-fastai/blob/main/nbs/11_vis.ipynb'


# ----------------------------------------------------------------------------- cells the docs step runs

_DOC_RUN = {'export', 'exports', 'exporti', 'exec_doc'}


def _imports_only(tree) -> bool:
    "Every top-level statement is an import, or a `try` of imports (an optional import with its fallback)."
    imports = (ast.Import, ast.ImportFrom)
    return all(isinstance(n, imports) or isinstance(n, ast.Try) and all(isinstance(b, imports) for b in n.body)
               for n in tree.body)


def docs_step_hazards(nb_path: Path) -> list:
    "Cells that nbdev's docs step would run although they are neither exported, `exec_doc`, nor imports only."
    nb = nbformat.read(nb_path, as_version=4)
    bad = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        opts, code = bd.split_options(c.source)
        if opts.keys() & _DOC_RUN or opts.get('eval') == 'false': continue
        try: tree = ast.parse('\n'.join(l for l in code.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)) and not _imports_only(tree):
            bad.append(f'{nb_path.name} cell {i} ({c.get("id", "?")}): {code.strip().splitlines()[0][:70]}')
    return bad


def test_docs_step_runs_only_imports(tmp_path):
    "nbdev's docs step executes every cell containing an import, without the cells before it: such cells hold imports only."
    assert docs_step_hazards(_hazard_nb(tmp_path)) == ['hazard.ipynb cell 2 (mixed): from x import y',
                                                       'hazard.ipynb cell 3 (nested): if ready:']
    bad = [h for p in sorted((ROOT/'nbs').glob('*.ipynb')) for h in docs_step_hazards(p)]
    assert bad == [], ('nbdev would run these cells while rendering docs, without the cells before them; move the '
                       'imports into a cell of their own (or mark a cell meant to run there `#| exec_doc`):\n' + '\n'.join(bad))


def _hazard_nb(tmp_path) -> Path:
    "Two hazards (imports mixed with code, an import nested in code) among cells the check must accept."
    nb = new_notebook(cells=[
        new_code_cell('import os\ntry: import yaml\nexcept ImportError: yaml = None'),
        new_code_cell('#| export\nimport os\nX = os.sep'),
        new_code_cell('from x import y\nz = y(tmp)', id='mixed'),
        new_code_cell('if ready:\n    import json\n    run(json)', id='nested'),
        new_code_cell('#| exec_doc\nimport warnings; warnings.filterwarnings("ignore")'),
        new_code_cell('#| eval: false\nimport nothing; nothing.run()'),
        new_code_cell('%timeit f()\nx = 1'),
    ])
    path = tmp_path/'hazard.ipynb'
    nbformat.write(nb, path)
    return path


def _sample_nbs(tmp_path):
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    nb = new_notebook(cells=[
        new_markdown_cell('# Sample page\n\n> What the sample shows.'),
        new_code_cell('#| default_exp sample'),
        new_code_cell('#| hide\nhidden_marker = 42'),
        new_code_cell('#| export\ndef twice(x:int, # a number\n         )->int: # twice it\n    "Twice `x`."\n    return 2*x'),
        new_markdown_cell('Uses `twice`; see [the next page](02_other.ipynb).'),
        new_code_cell('twice(21)', outputs=[new_output('execute_result', data={'text/plain': '42'}, execution_count=1)]),
        new_code_cell('#| echo: false\nplot_marker()', outputs=[new_output('display_data', data={
            'image/png': 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg==',
            'text/plain': '<Figure>'})]),
    ], metadata={'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'Python 3'}})
    nbformat.write(nb, nbs/'01_sample.ipynb')
    nbformat.write(new_notebook(cells=[new_markdown_cell('# Other\n\nText.')]), nbs/'02_other.ipynb')
    return nbs


def test_build_small_site(tmp_path):
    "nbdev preprocessing (hidden cells gone, show_doc rendered) then nbconvert pages with navigation and Colab links."
    written, errors = bd.build_site(tmp_path/'site', _sample_nbs(tmp_path), tmp_path/'proc', verbose=False)
    assert errors == {}
    assert sorted(p.name for p in written) == ['index.html', 'other.html', 'sample.html']
    page = (tmp_path/'site'/'sample.html').read_text()
    assert '<title>Sample page' in page and 'What the sample shows.' in page
    assert 'hidden_marker' not in page and 'default_exp' not in page and '#|' not in page
    assert re.search(r'<h3 id="twice">twice', page), 'show_doc of the exported function missing'
    assert 'a number' in page and '<em>Twice <code>x</code>.</em>' in page
    assert 'plot_marker' not in page and 'src="data:image/png;base64,iVBOR' in page
    assert 'href="other.html"' in page and 'colab.research.google.com/github/galaxy-fastai/galaxy-fastai/blob/main/nbs/01_sample.ipynb' in page
    assert page.count('<nav class="site-nav">') == 1 and 'class="current"' in page
    index = (tmp_path/'site'/'index.html').read_text()  # no index.ipynb: a contents page stands in
    assert 'href="sample.html"' in index and 'What the sample shows.' in index

def test_build_falls_back_when_nbdev_cannot_execute(tmp_path):
    "A notebook nbdev cannot execute for show_doc still gets its page, with a note, and is reported."
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    nbformat.write(new_notebook(cells=[
        new_markdown_cell('# Broken page'), new_code_cell('#| default_exp broken'),
        new_code_cell('#| export\ndef f(): "Doc."; return 1'),
        new_code_cell('import os\nprint(undefined_name)'),      # nbdev executes import cells: NameError
        new_markdown_cell('Still here.')]), nbs/'01_broken.ipynb')
    written, errors = bd.build_site(tmp_path/'site', nbs, tmp_path/'proc', verbose=False)
    assert list(errors) == ['01_broken.ipynb'] and 'undefined_name' in errors['01_broken.ipynb']
    page = (tmp_path/'site'/'broken.html').read_text()
    assert 'Docs build note' in page and 'Still here.' in page and '<title>Broken page' in page


# ----------------------------------------------------------------------------- the site in a browser

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--virtual-time-budget=8000']

CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var r = document.createElement('pre'); r.id = 'docs-check';
  r.textContent = JSON.stringify({title: document.title, images: imgs.length,
    broken: broken.map(function (i) { return (i.getAttribute('src') || '').slice(0, 80); }),
    nav: document.querySelectorAll('nav.site-nav li a').length,
    height: document.documentElement.scrollHeight});
  document.body.appendChild(r);
});
</script>"""


def chromium_binary():
    "Debian's chromium, installed with apt-get when missing and we are root; else skip saying why."
    names = ('chromium', 'chromium-browser', 'google-chrome')
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if found: return found
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        pytest.skip('chromium is not installed and cannot be installed here (needs root and apt-get): '
                    'install Debian\'s `chromium` package to run the browser test')
    for cmd in (['apt-get', 'install', '-y', '-q', 'chromium'], ['apt-get', 'update', '-q'],
                ['apt-get', 'install', '-y', '-q', 'chromium']):
        subprocess.run(cmd, capture_output=True, timeout=900, env={**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'})
        if shutil.which('chromium'): return shutil.which('chromium')
    pytest.skip('`apt-get install chromium` failed (no package mirror reachable?): browser test not run')


def run_chromium(exe, *args, timeout=120):
    "One headless Chromium run with a fresh profile (a shared one could hand the URL to a still-running instance)."
    with tempfile.TemporaryDirectory(prefix='chromium-profile-') as profile:
        res = subprocess.run([exe, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *args],
                             capture_output=True, text=True, timeout=timeout)
    return res.stdout


def check_page(exe, page: Path) -> dict:
    "Load a copy of `page` with the check script added; return what the script saw."
    probe = page.with_name(f'_check_{page.name}')
    probe.write_text(page.read_text(encoding='utf-8').replace('</body>', CHECK_SCRIPT + '</body>'), encoding='utf-8')
    try: dom = run_chromium(exe, '--dump-dom', probe.as_uri())
    finally: probe.unlink()
    m = re.search(r'<pre id="docs-check">(.*?)</pre>', dom, flags=re.S)
    assert m, f'{page.name}: page did not finish loading in headless Chromium (no check result in the DOM)'
    return json.loads(html.unescape(m.group(1)))


SHOT_HEIGHT = 8000   # px per screenshot: a taller window is not reliably captured, so long pages come in parts

def screenshot_page(exe, page: Path, height: int) -> list:
    "Full-page screenshots of `page` into SCREENSHOTS: one PNG, or `stem-1.png`, `stem-2.png`, ... of successive parts."
    for old in SCREENSHOTS.glob(f'{page.stem}*.png'): old.unlink()
    parts = max(1, -(-height // SHOT_HEIGHT))
    if parts == 1:
        shot = SCREENSHOTS/f'{page.stem}.png'
        run_chromium(exe, f'--screenshot={shot}', f'--window-size=1280,{max(height, 600)}', page.as_uri())
        return [shot]
    shots = []
    for k in range(parts):   # headless Chromium captures from the top, so part k shifts the page up instead of scrolling
        probe = page.with_name(f'_shot_{page.name}')
        shift = f'<style>body.jp-Notebook {{ margin-top: -{k * SHOT_HEIGHT}px !important; }}</style>'
        probe.write_text(page.read_text(encoding='utf-8').replace('</head>', shift + '</head>'), encoding='utf-8')
        shot = SCREENSHOTS/f'{page.stem}-{k + 1}.png'
        try: run_chromium(exe, f'--screenshot={shot}', f'--window-size=1280,{SHOT_HEIGHT}', probe.as_uri())
        finally: probe.unlink()
        shots.append(shot)
    missing = [s.name for s in shots if not s.exists()]
    assert not missing, f'{page.name}: screenshots not written: {missing}'
    return shots


def _image_outputs(nb_path: Path) -> int:
    nb = nbformat.read(nb_path, as_version=4)
    return sum(any(k.startswith('image/') for k in o.get('data', {}))
               for c in nb.cells if c.cell_type == 'code' and not bd.is_hidden(bd.cell_options(c))
               and bd.cell_options(c).get('output') != 'false' for o in c.get('outputs', []))


@pytest.mark.skipif(not ({'slow', 'docs'} & set(FLAGS)),
                    reason='browser test of the docs site: set GALAXY_FASTAI_FLAGS=slow (make test-slow) or =docs')
def test_site_in_browser():
    "Build the site into _docs/, open every page in headless Chromium: loads, navigates, no broken image; screenshots."
    exe = chromium_binary()
    written, errors = bd.build_site(verbose=False)
    assert written, 'no page written'
    SCREENSHOTS.mkdir(exist_ok=True)
    sources = {bd.page_name(p): p for p in bd.site_notebooks(ROOT/'nbs')}
    for page in written:
        seen = check_page(exe, page)
        assert seen['nav'] == len(written), f'{page.name}: navigation lists {seen["nav"]} pages, site has {len(written)}'
        assert seen['broken'] == [], f'{page.name}: broken images {seen["broken"]}'
        if page.name in sources:
            n_fig = _image_outputs(sources[page.name])
            assert seen['images'] >= n_fig, f'{page.name}: {seen["images"]} images shown, notebook has {n_fig} figures'
        for shot in screenshot_page(exe, page, int(seen['height'])):
            assert shot.stat().st_size > 10_000, f'{page.name}: empty screenshot {shot.name}'
    assert errors == {}, f'notebooks nbdev could not execute for show_doc (their pages lack signatures): {errors}'
