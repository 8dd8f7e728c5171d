"""Tests of the docs tooling (`tools/build_docs.py`, `mkdocs.yml`).

Fast, always run: README.md is in step with nbs/index.ipynb; the README rules; what the Markdown pages
do in Quarto's place (links, heading ids, callouts, cell options); title cells whose lines nbdev would
drop; cells nbdev's docs step would run; one small site built through nbdev's processing and MkDocs.

Slow (the whole site in headless Chromium): runs when GALAXY_FASTAI_FLAGS contains `slow` (as
`make test-slow` sets it) or `docs`. It builds the site into `_docs/`, opens every page in Debian's
`chromium` through Playwright (each installed when missing and possible, else the test skips saying
why; Playwright's own browser downloads are never used), checks each page loaded with its navigation
and no broken image, follows every in-site link and anchor (an anchor must be an id on its target
page), searches for `GalaxyResNet` (the resnet page must come first), and saves full-page
screenshots of each page to `screenshots/` (untracked; long pages in parts `page-1.png`, ...).
"""
import ast, importlib.util, os, re, shutil, subprocess, sys, time
from pathlib import Path
from urllib.parse import unquote, urlsplit

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



def test_readme_links_resolve():
    "Every relative link and picture of README.md names a file of the checkout (a renamed notebook, a missing image)."
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    targets = re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', text)
    local = [t for t in targets if '://' not in t and not t.startswith('mailto:')]
    assert any(t.endswith('.png') for t in local) and any(t.endswith('.ipynb') for t in local)
    missing = sorted({t for t in local if not (ROOT/t).exists()})
    assert not missing, f'README.md links to files that do not exist: {missing}'
    numbered = {p.name for p in (ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')}
    colab = set(re.findall(r'colab\.research\.google\.com/github/[^)]*/nbs/([^)/]+\.ipynb)', text))
    assert colab == numbered, f'the Colab table is stale (re-run nbs/index.ipynb): {sorted(colab ^ numbered)}'


def _index_nb(tmp_path):
    nb = new_notebook(cells=[
        new_markdown_cell('# galaxy-fastai\n\n> A reproduction.\n\n'
                          'See [the data](03_data.ipynb) and [docs](https://x.org/a.ipynb).'),
        new_code_cell('#| hide\nfrom galaxy_fastai.selection import *'),
        new_code_cell('#| eval: false\nmake demo'),
        new_code_cell('print(1+1)', outputs=[new_output('stream', name='stdout', text='2\n')]),
        new_code_cell('#| echo: false\nshow()',
                      outputs=[new_output('display_data', data={'image/png': 'iVBO', 'text/plain': '<Figure>'})]),
        new_code_cell('secret = 1', metadata={'nbdev': {'include': 'false'}}),
        new_code_cell('#| echo: false\nlinks()',
                      outputs=[new_output('display_data', data={'text/markdown': '| [mock](01_mock.ipynb) |'})]),
        new_code_cell('#|export\ndef f(): pass'),
    ])
    path = tmp_path/'index.ipynb'
    nbformat.write(nb, path)
    return path


def test_readme_rules(tmp_path):
    "Markdown as is (notebook links pointed into nbs/), code fenced, text outputs kept, hidden cells, images dropped."
    text = bd.readme_text(_index_nb(tmp_path))
    assert text.startswith(bd.README_BANNER)
    assert '# galaxy-fastai\n\n> A reproduction.' in text
    assert '[the data](nbs/03_data.ipynb)' in text and '(https://x.org/a.ipynb)' in text
    md = '![cm](images/cm.png) [x](https://x.org/images/y.png)'
    assert bd.readme_links(md) == '![cm](nbs/images/cm.png) [x](https://x.org/images/y.png)'
    assert '```python\nmake demo\n```' in text and '#| eval' not in text
    assert '```python\nprint(1+1)\n```\n\n```\n2\n```' in text
    assert '| [mock](nbs/01_mock.ipynb) |' in text and 'links()' not in text
    for gone in ('from galaxy_fastai.selection', 'show()', '<Figure>', 'iVBO', 'secret', 'def f'):
        assert gone not in text, gone
    readme = tmp_path/'README.md'
    assert not bd.write_readme(tmp_path/'index.ipynb', readme, check=True)  # absent: not in step
    bd.write_readme(tmp_path/'index.ipynb', readme)
    assert bd.write_readme(tmp_path/'index.ipynb', readme, check=True)
    assert readme.read_text() == text

# ----------------------------------------------------------------------------- what Quarto would do

DOC_URL = 'https://galaxy-fastai.github.io/galaxy-fastai'

def test_page_markdown():
    "nbdev's doc-site links and notebook links become page links (which MkDocs checks); callouts admonitions."
    md = bd.page_markdown('[source](https://g.com/x.py#L3){target="_blank" style="float:right"}\n'
                          f'See [`f`]({DOC_URL}/resnet.html#galaxyresnet.forward), [home]({DOC_URL}/), '
                          '[data](03_data.ipynb#sec), [bench](nbs/15_benchmark.ipynb), '
                          f'[`_private`]({DOC_URL}/mock.html#_private) and '
                          '[Colab](https://colab.research.google.com/github/o/r/blob/main/nbs/11_vis.ipynb).\n'
                          '## Heading {#sec-h}\n::: {.callout-warning title="Careful"}\nbody\n:::\n'
                          '::: {.column}\ntext\n:::\n```\n:::\n```', DOC_URL)
    assert '[source](https://g.com/x.py#L3){target="_blank" style="float:right"}' in md   # attr_list renders it
    assert '[`f`](resnet.md#galaxyresnet.forward)' in md and '[home](index.md)' in md
    assert '[data](data.md#sec)' in md and '[bench](benchmark.md)' in md and ', `_private` and' in md
    assert '(https://colab.research.google.com/github/o/r/blob/main/nbs/11_vis.ipynb)' in md
    assert '## Heading {#sec-h}' in md and '/// warning | Careful\nbody\n///' in md and '\ntext\n' in md
    assert '```\n:::\n```' in md  # code blocks untouched


def test_heading_ids_are_pandocs():
    "Heading ids as pandoc (so Quarto) makes them, which is what nbdev's links point at."
    for text, slug in [('GalaxyResNet', 'galaxyresnet'), ('GalaxyResNet.forward', 'galaxyresnet.forward'),
                       ('galaxy_dls', 'galaxy_dls'), ("The paper's numbers", 'the-papers-numbers'),
                       ('The parameter count: 26.3M or 55.7M?', 'the-parameter-count-26.3m-or-55.7m'),
                       ('Seen (§5.3, Figures 10–13)', 'seen-5.3-figures-1013'),
                       ('3 things', 'things'), ('2026', 'section')]:
        assert bd.pandoc_slug(text) == slug, text


def test_cell_options_and_pages():
    test_opts = bd.split_options('#| echo: false\n#|hide\n\nx = 1\n#| not an option')
    assert test_opts == ({'echo': 'false', 'hide': 'true'}, 'x = 1\n#| not an option')
    assert bd.is_hidden({'hide': 'true'}) and bd.is_hidden({'include': 'false'}) and not bd.is_hidden({'eval': 'false'})
    assert bd.page_name('11_vis.ipynb') == 'vis.html' and bd.page_name('index.ipynb') == 'index.html'
    assert bd.colab_url('11_vis.ipynb') == \
        'https://colab.research.google.com/github/galaxy-fastai/galaxy-fastai/blob/main/nbs/11_vis.ipynb'
    nbs = bd.site_notebooks(ROOT/'nbs')
    assert nbs[0].name == 'index.ipynb' and sorted(nbs[1:]) == nbs[1:]   # the nav: index, then by name


def test_title_cells_hold_only_frontmatter():
    "nbdev makes a notebook's title cell the page's title and description and drops every other line of it."
    lost = {p.name: bd.title_cell_leftovers(p) for p in bd.site_notebooks(ROOT/'nbs')}
    lost = {k: v[:3] for k, v in lost.items() if v}
    assert lost == {}, ('the docs lose these lines of a title cell: keep only `# Title` and `> description` in it '
                        f'and move the rest to a cell of its own: {lost}')


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
        try: tree = ast.parse('\n'.join(line for line in code.splitlines() if not line.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)) and not _imports_only(tree):
            bad.append(f'{nb_path.name} cell {i} ({c.get("id", "?")}): {code.strip().splitlines()[0][:70]}')
    return bad


def test_docs_step_runs_only_imports(tmp_path):
    "nbdev's docs step runs every cell holding an import, without the cells before it: such cells hold imports only."
    assert docs_step_hazards(_hazard_nb(tmp_path)) == ['hazard.ipynb cell 2 (mixed): from x import y',
                                                       'hazard.ipynb cell 3 (nested): if ready:']
    bad = [h for p in sorted((ROOT/'nbs').glob('*.ipynb')) for h in docs_step_hazards(p)]
    assert bad == [], ('nbdev would run these cells while rendering docs, without the cells before them; move the '
                       'imports into a cell of their own (or mark a cell meant to run there `#| exec_doc`):\n'
                       + '\n'.join(bad))


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


PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg=='

def _sample_nbs(tmp_path):
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    nb = new_notebook(cells=[
        new_markdown_cell('# Sample page\n\n> What the sample shows.'),
        new_code_cell('#| default_exp sample'),
        new_code_cell('#| hide\nhidden_marker = 42'),
        new_code_cell('#| export\ndef twice(x:int, # a number\n         )->int: # twice it\n'
                      '    "Twice `x`."\n    return 2*x'),
        new_markdown_cell('Uses `twice`; see [the next page](02_other.ipynb), [a part](02_other.ipynb#a-section).'),
        new_code_cell('twice(21)', outputs=[new_output('execute_result', data={'text/plain': '42'})]),
        new_code_cell('#| echo: false\nplot_marker()', outputs=[new_output('display_data', data={
            'image/png': PIXEL,
            'text/plain': '<Figure>'})]),
        new_code_cell('print("```")', outputs=[new_output('stream', name='stdout', text='```\n')]),
        new_code_cell('#| output: false\nquiet()', outputs=[new_output('stream', name='stdout', text='noise\n')]),
    ], metadata={'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'Python 3'}})
    nbformat.write(nb, nbs/'01_sample.ipynb')
    for name in ('index', '02_other'):
        nb = new_notebook(cells=[new_markdown_cell(f'# {name}\n\n## A section\n\nText.')])
        nbformat.write(nb, nbs/f'{name}.ipynb')
    return nbs


def test_build_small_site(tmp_path):
    "nbdev's processing (hidden cells gone, show_doc rendered), Markdown pages, then MkDocs --strict (links checked)."
    pages, errors = bd.write_pages(_sample_nbs(tmp_path), tmp_path/'pages', tmp_path/'proc', verbose=False)
    assert errors == {} and [p['page'] for p in pages] == ['index.md', 'sample.md', 'other.md']
    md = (tmp_path/'pages'/'sample.md').read_text()
    assert md.startswith('---\ntitle: Sample page\nnotebook: 01_sample.ipynb\ndescription: What the sample shows.\n'
                         '---\n\n# Sample page\n')
    for gone in ('hidden_marker', 'default_exp', '#|', 'plot_marker', 'noise'): assert gone not in md, gone
    assert 'quiet()' in md and '````text\n```\n````' in md
    assert '[the next page](other.md)' in md and '[a part](other.md#a-section)' in md
    assert '![figure](sample_files/' in md and len(list((tmp_path/'pages'/'sample_files').glob('*.png'))) == 1
    (tmp_path/'mkdocs.yml').write_text(f"INHERIT: {ROOT/'mkdocs.yml'}\ndocs_dir: pages\nsite_dir: site\n"
                                       f"hooks: [{ROOT/'tools'/'build_docs.py'}]\n")
    res = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '-q', '-f', str(tmp_path/'mkdocs.yml')],
                         capture_output=True, text=True, env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})
    assert res.returncode == 0, res.stderr
    page = (tmp_path/'site'/'sample.html').read_text()
    assert '<title>Sample page' in page and 'What the sample shows.' in page
    assert 'id="twice"' in page, 'show_doc of the exported function missing'
    assert 'a number' in page and '<em>Twice <code>x</code>.</em>' in page
    assert 'href="other.html"' in page and 'href="other.html#a-section"' in page and 'src="sample_files/' in page
    assert 'colab.research.google.com/github/galaxy-fastai/galaxy-fastai/blob/main/nbs/01_sample.ipynb' in page
    assert 'href="https://github.com/galaxy-fastai/galaxy-fastai/blob/main/nbs/01_sample.ipynb"' in page  # "edit"
    nav = page[page.index('md-nav--primary'):]
    assert nav.index('href="index.html"') < nav.index('href="sample.html"') < nav.index('href="other.html"')
    assert '01 Sample page' in nav
    assert (tmp_path/'site'/'search'/'search_index.js').exists() and (tmp_path/'site'/bd.SHIM.name).exists()
    assert 'unpkg.com' not in page and 'fonts.googleapis' not in page   # nothing loaded from the network


def test_build_falls_back_when_nbdev_cannot_execute(tmp_path):
    "A notebook nbdev cannot execute for show_doc still gets its page, with a note, and is reported."
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    nbformat.write(new_notebook(cells=[
        new_markdown_cell('# Broken page'), new_code_cell('#| default_exp broken'),
        new_code_cell('#| export\ndef f(): "Doc."; return 1'),
        new_code_cell('import os\nprint(undefined_name)'),      # nbdev executes import cells: NameError
        new_markdown_cell('Still here.')]), nbs/'01_broken.ipynb')
    pages, errors = bd.write_pages(nbs, tmp_path/'pages', tmp_path/'proc', verbose=False)
    assert list(errors) == ['01_broken.ipynb'] and 'undefined_name' in errors['01_broken.ipynb']
    assert [p['page'] for p in pages] == ['index.md', 'broken.md']   # no index.ipynb: a contents page stands in
    assert '| [Broken page](broken.md) |' in (tmp_path/'pages'/'index.md').read_text()
    md = (tmp_path/'pages'/'broken.md').read_text()
    assert 'Docs build note' in md and 'Still here.' in md and '# Broken page' in md


# ----------------------------------------------------------------------------- the site in a browser

CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run', '--hide-scrollbars']   # Playwright adds --headless


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


def playwright_api():
    "Playwright's Python client (pip-installed when missing; only its client: the browser is Debian's chromium)."
    try: from playwright.sync_api import sync_playwright
    except ImportError:
        res = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'playwright'], capture_output=True,
                             text=True)
        if res.returncode: pytest.skip(f'no playwright, and `pip install playwright` failed: {res.stderr[-300:]}')
        importlib.invalidate_caches()
        from playwright.sync_api import sync_playwright
    return sync_playwright


SHOT_HEIGHT = 8000   # px per screenshot: long pages come in parts
MIN_SHOT_HEIGHT = 1000   # px: no part shorter (a page 33 px over a part once gave an 'empty' last one)

def screenshots(page, name: str, height: int) -> list:
    "Full-page screenshots into SCREENSHOTS: `name.png`, or `name-1.png`, `name-2.png`, ... of successive parts."
    for old in SCREENSHOTS.glob(f'{name}.png'): old.unlink()
    for old in SCREENSHOTS.glob(f'{name}-*.png'): old.unlink()
    if height <= SHOT_HEIGHT:
        page.screenshot(path=SCREENSHOTS/f'{name}.png', full_page=True)
        return [SCREENSHOTS/f'{name}.png']
    shots, tops = [], list(range(0, height, SHOT_HEIGHT))
    if height - tops[-1] < MIN_SHOT_HEIGHT: tops.pop()   # a short tail goes into the part before it
    for k, top in enumerate(tops):
        shot = SCREENSHOTS/f'{name}-{k + 1}.png'
        bottom = tops[k + 1] if k + 1 < len(tops) else height
        clip = dict(x=0, y=top, width=page.viewport_size['width'], height=bottom - top)
        page.screenshot(path=shot, full_page=True, clip=clip)
        shots.append(shot)
    return shots


def _image_outputs(nb_path: Path) -> int:
    nb = nbformat.read(nb_path, as_version=4)
    return sum(any(k.startswith('image/') for k in o.get('data', {}))
               for c in nb.cells if c.cell_type == 'code' and not bd.is_hidden(bd.cell_options(c))
               and bd.cell_options(c).get('output') != 'false' for o in c.get('outputs', []))


PAGE_FACTS = """() => ({
  nav: [...document.querySelectorAll('nav.md-nav--primary a.md-nav__link[href]')].map(a => a.href),
  images: document.images.length,
  broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
            .map(i => (i.getAttribute('src') || '').slice(0, 80)),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id)
         .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  height: document.documentElement.scrollHeight})"""


@pytest.mark.skipif(not ({'slow', 'docs'} & set(FLAGS)),
                    reason='browser test of the docs site: set GALAXY_FASTAI_FLAGS=slow (make test-slow) or =docs')
def test_site_in_browser():
    "Build _docs/, open every page in headless Chromium: loads, navigates, no broken image or link; search; shots."
    exe, sync_playwright = chromium_binary(), playwright_api()
    t0 = time.time()
    pages, errors, rc = bd.build_site(verbose=False)
    print(f'site built in {time.time() - t0:.0f} s: {len(pages)} pages')
    assert rc == 0, 'mkdocs build failed'
    site = ROOT/'_docs'
    base = site.as_uri() + '/'
    html_pages = sorted(p.name for p in site.glob('*.html') if p.name != '404.html')
    assert sorted(p['page'][:-3] + '.html' for p in pages) == html_pages
    sources = {Path(p['page']).stem + '.html': ROOT/'nbs'/p['notebook'] for p in pages}
    SCREENSHOTS.mkdir(exist_ok=True)
    problems, facts = [], {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        for name in html_pages:
            page.goto(base + name, wait_until='load')
            seen = facts[name] = page.evaluate(PAGE_FACTS)
            nav = {u[len(base):] for u in seen['nav'] if u.startswith(base) and '#' not in u}
            if nav != set(html_pages): problems.append(f'{name}: navigation lists {sorted(nav)}')
            if seen['broken']: problems.append(f'{name}: broken images {seen["broken"]}')
            n_fig = _image_outputs(sources[name])
            if seen['images'] < n_fig: problems.append(f'{name}: {seen["images"]} images, notebook has {n_fig} figures')
            for shot in screenshots(page, Path(name).stem, int(seen['height'])):
                if shot.stat().st_size < 10_000: problems.append(f'{name}: empty screenshot {shot.name}')

        # every in-site link, anchors included, followed: the target page exists and has the anchor as an id
        links = {urlsplit(u)._replace(query='').geturl() for f in facts.values() for u in f['links']
                 if u.startswith(base)}
        for url in sorted(links):
            parts = urlsplit(url)
            target = parts.path.rsplit('/', 1)[-1]
            if target not in facts:
                problems.append(f'link to a page the site lacks: {url[len(base):]}'); continue
            if parts.fragment and unquote(parts.fragment) not in facts[target]['ids']:
                problems.append(f'link to an anchor {target} lacks: {url[len(base):]}')
        print(f'{len(html_pages)} pages opened, {len(links)} distinct in-site links followed '
              f'({sum(len(f["links"]) for f in facts.values())} links in all)')

        # search, offline and from file://: GalaxyResNet finds the page of galaxy_fastai.resnet first
        page.goto(base + 'index.html', wait_until='load')
        page.fill('input.md-search__input', 'GalaxyResNet')
        page.wait_for_selector('.md-search-result__item a.md-search-result__link', state='attached', timeout=30_000)
        hrefs = page.eval_on_selector_all('.md-search-result__link', 'els => els.map(e => e.href)')
        found = [h[len(base):] for h in hrefs]
        page.screenshot(path=SCREENSHOTS/'search-GalaxyResNet.png')
        browser.close()
    print(f'search for GalaxyResNet: {found[:3]} ...')
    if not found or not found[0].startswith('resnet.html'): problems.append(f'search for GalaxyResNet: {found[:3]}')
    if errors: problems.append(f'notebooks nbdev could not run for show_doc (their pages lack signatures): {errors}')
    assert problems == [], f'{len(problems)} problems:\n' + '\n'.join(problems)
