#!/usr/bin/env python
"""Docs tooling for galaxy-fastai (a plain script, not part of the library).

    python tools/build_docs.py html [--out _docs] [--force] [--strict]   # the docs site, without Quarto
    python tools/build_docs.py readme [--check]                          # README.md from nbs/index.ipynb

`make docs` runs `nbdev-docs` where Quarto is on PATH and the `html` mode otherwise; `make readme`
runs the `readme` mode.

The `html` mode renders the notebooks as committed (executed, with their outputs); it never
re-executes them. Each notebook first goes through nbdev's own docs preprocessing
(`nbdev.processors.FilterDefaults`, the same processors `nbdev-docs` runs before Quarto:
frontmatter from the title cell, `#| hide` / `#| export` cells removed, `show_doc` added and
rendered for every exported definition, backticked names linked). What Quarto would then do with
the result is done here instead (cell options such as `echo: false`, `{target=...}` link
attributes, `:::` divs, links to `.ipynb` files), and nbconvert's HTML exporter writes one page per
notebook into `_docs/`, with a navigation bar, an "Open in Colab" link built from the Repository
URL in pyproject.toml, and figures embedded as data URIs.

nbdev executes a notebook's exported cells and its import cells to render `show_doc`. Where that
fails (typically a cell that mixes imports with code using earlier variables, see nbdev's FAQ),
the page is still built, without signatures and with a note saying why; the build names such
notebooks and, with `--strict` (the browser test's standard), exits 1.
"""
from __future__ import annotations

import argparse, difflib, html, json, os, re, sys, tomllib, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLAB = 'https://colab.research.google.com/github'
README_BANNER = ('<!-- Generated from nbs/index.ipynb by `make readme` (tools/build_docs.py): '
                 'edit the notebook, not this file. -->')
HIDE_DIRECTIVES = {'hide', 'export', 'exporti', 'default_exp'}  # cells nbdev never shows

# ----------------------------------------------------------------------------- config and pages

def project_urls(root=ROOT) -> dict:
    "The `[project.urls]` table of pyproject.toml."
    with open(Path(root)/'pyproject.toml', 'rb') as f: return tomllib.load(f)['project'].get('urls', {})

def github_repo(root=ROOT) -> tuple[str, str]:
    "(owner, name) of the GitHub repository named by `Repository` in pyproject.toml."
    url = project_urls(root).get('Repository', '')
    m = re.match(r'https?://github\.com/([^/]+)/([^/#?]+?)(?:\.git)?/?$', url)
    if not m: raise ValueError(f"pyproject.toml [project.urls] Repository is not a GitHub URL: {url!r}")
    return m.group(1), m.group(2)

def colab_url(nb_name: str, root=ROOT, branch='main', nbs_dir='nbs') -> str:
    "Colab link opening notebook `nb_name` (e.g. '11_vis.ipynb') from the repository on GitHub."
    owner, repo = github_repo(root)
    return f'{COLAB}/{owner}/{repo}/blob/{branch}/{nbs_dir}/{nb_name}'

def page_name(nb: Path | str) -> str:
    "The html page of a notebook, named as nbdev/Quarto name it (numeric prefix dropped: 11_vis -> vis.html)."
    from nbdev.config import nbpath2html
    return nbpath2html(Path(nb)).name

def site_notebooks(nbs_path: Path) -> list[Path]:
    "The notebooks of the site in reading order: index first, then by name."
    nbs = sorted(p for p in Path(nbs_path).glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(nbs, key=lambda p: (p.name != 'index.ipynb', p.name))

# ----------------------------------------------------------------------------- cell options

_re_opt = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def split_options(source: str) -> tuple[dict, str]:
    "Split a code cell into its leading `#| key: value` options (nbdev or Quarto syntax) and the rest."
    lines, opts = source.splitlines(True), {}
    i = 0
    while i < len(lines):
        m = _re_opt.match(lines[i])
        if m: opts[m.group(1)] = m.group(2).lower() if m.group(2) else 'true'
        elif lines[i].strip(): break
        i += 1
    return opts, ''.join(lines[i:])

def cell_options(cell) -> dict:
    "Options of a code cell: `#|` comment lines plus nbdev's metadata form (`metadata.nbdev`)."
    meta = {k: (v or 'true').lower() for k, v in cell.get('metadata', {}).get('nbdev', {}).items()}
    return {**meta, **split_options(cell.get('source', ''))[0]}

def is_hidden(opts: dict) -> bool:
    "Would nbdev leave this cell out of the docs (`#| hide`, `#| export`, `#| include: false`, ...)?"
    return bool(HIDE_DIRECTIVES & set(opts)) or opts.get('include') == 'false'

# ----------------------------------------------------------------------------- markdown: what Quarto would do

_re_link_attrs = re.compile(r'\[([^\]\n]+)\]\(([^)\s]+)\)\{([^}\n]*)\}')
_re_nb_link = re.compile(r'\]\((?![a-z][a-z0-9+.-]*:)([^)#\s]*?)([^)/#\s]+)\.ipynb(#[^)\s]*)?\)')
_re_fence_div = re.compile(r'^\s*:::+\s*(\{[^}]*\}|[\w-]+)?\s*$')
_re_heading_attrs = re.compile(r'^(#{1,6} .*?)\s*\{[#.][^}]*\}\s*$', re.MULTILINE)

def _attrs_to_html(attrs: str) -> str:
    "Pandoc link attributes (`target=\"_blank\" .cls`) as HTML attributes."
    classes = re.findall(r'(?:^|\s)\.([\w-]+)', attrs)
    kv = ' '.join(re.findall(r'[\w-]+="[^"]*"', attrs))
    return (f' class="{" ".join(classes)}"' if classes else '') + (f' {kv}' if kv else '')

def _fence_divs(md: str) -> str:
    "Quarto `:::` divs: callouts become blockquotes headed by their kind, other divs just their body."
    out, stack, in_code = [], [], False
    for line in md.splitlines():
        if line.lstrip().startswith('```'): in_code = not in_code
        m = None if in_code else _re_fence_div.match(line)
        if m and m.group(1):
            kind = re.search(r'callout-(\w+)', m.group(1))
            stack.append(bool(kind))
            if kind: out.append(f'> **{kind.group(1).capitalize()}**\n>')
        elif m and stack: stack.pop()
        elif m: continue
        else: out.append(('> ' + line).rstrip() if any(stack) else line)
    return '\n'.join(out)

def quarto_markdown(md: str, doc_url: str = '') -> str:
    "Rewrite the Quarto/pandoc-only bits of nbdev's markdown for a plain markdown renderer."
    md = _re_link_attrs.sub(lambda m: f'<a href="{m.group(2)}"{_attrs_to_html(m.group(3))}>{m.group(1)}</a>', md)
    if doc_url: md = md.replace(doc_url.rstrip('/') + '/', '')
    md = _re_nb_link.sub(lambda m: f']({page_name(m.group(2) + ".ipynb")}{m.group(3) or ""})', md)
    md = _re_heading_attrs.sub(r'\1', md)
    return _fence_divs(md)

# ----------------------------------------------------------------------------- nbdev preprocessing

def _stale(src: Path, dst: Path, deps=()) -> bool:
    if not dst.exists(): return True
    t = dst.stat().st_mtime
    return any(p.exists() and p.stat().st_mtime > t for p in (src, *deps))

def _without_exec():
    "nbdev's `FilterDefaults` less `exec_show_docs`: the fallback for a notebook whose cells nbdev cannot execute."
    from nbdev.processors import FilterDefaults, exec_show_docs
    class NoExec(FilterDefaults):
        def base_procs(self): return [p for p in super().base_procs() if p is not exec_show_docs]
    return NoExec

def nbdev_preprocess(src: Path, cache: Path, force=False, execute=True) -> Path:
    "Run nbdev's docs processors (`FilterDefaults`) on `src`, as `nbdev-docs` does before Quarto; cached by mtime."
    from nbdev.processors import FilterDefaults
    from nbdev.serve_drv import exec_nb
    dst = Path(cache)/src.name
    deps = (ROOT/'pyproject.toml', ROOT/'galaxy_fastai'/'_modidx.py')
    if force or not execute or _stale(src, dst, deps):
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix('.tmp')
        old = os.environ.get('IN_TEST')
        os.environ['IN_TEST'] = '1'  # as nbdev.serve_drv.main does
        try: exec_nb(src, tmp, FilterDefaults if execute else _without_exec())
        finally:
            if old is None: os.environ.pop('IN_TEST', None)
            else: os.environ['IN_TEST'] = old
        tmp.replace(dst)
        if not execute: os.utime(dst, (0, 0))  # a fallback is never a valid cache entry
    return dst

FALLBACK_NOTE = ('> **Docs build note:** nbdev could not execute this notebook\'s code for its API documentation '
                 '(`{error}`), so the signatures of its exported functions are missing from this page. '
                 'The usual cause is a cell that mixes imports with other code (see the nbdev FAQ).')

def frontmatter(nb) -> dict:
    "Pop the YAML frontmatter raw cell that nbdev's FrontmatterProc inserts; return it as a dict."
    import yaml
    for i, c in enumerate(nb.cells):
        src = c.source.strip()
        if c.cell_type == 'raw' and src.startswith('---') and src.endswith('---'):
            nb.cells.pop(i)
            return yaml.safe_load(src.strip('-')) or {}
    return {}

_CELL_KEYS = {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}

def quarto_cells(nb, doc_url='') -> None:
    "Apply what Quarto does with nbdev's output: cell options, link attributes, divs (in place)."
    cells = []
    for c in nb.cells:
        for k in set(c) - _CELL_KEYS: del c[k]  # nbdev's own marks (`has_sd`, ...) are not nbformat
        c.metadata.pop('execution', None)  # timings of unclean notebooks fail nbformat validation
        if c.cell_type == 'markdown':
            c.source = quarto_markdown(c.source, doc_url)
        elif c.cell_type == 'code':
            opts, c.source = split_options(c.source)
            if opts.get('include') == 'false': continue
            c.source = c.source.strip('\n')
            if opts.get('echo') == 'false' or not c.source.strip():
                c.metadata.setdefault('tags', []).append('docs-remove-input')
            if opts.get('output') == 'false': c.outputs = []
            for o in c.get('outputs', []):
                md = o.get('data', {}).get('text/markdown')
                if md is not None: o['data']['text/markdown'] = quarto_markdown(''.join(md), doc_url)
            if not c.source.strip() and not c.get('outputs'): continue
        cells.append(c)
    nb.cells = cells

# ----------------------------------------------------------------------------- html

SITE_CSS = """
:root { --nav-w: 250px; }
body.jp-Notebook { padding: 0; margin: 0; }
nav.site-nav { position: fixed; top: 0; left: 0; bottom: 0; width: var(--nav-w); overflow-y: auto;
  padding: 1.2em 1em; box-sizing: border-box; background: #f6f8fa; border-right: 1px solid #d0d7de;
  font-family: system-ui, sans-serif; font-size: 14px; }
nav.site-nav .site-title { font-weight: 700; font-size: 16px; display: block; margin-bottom: .8em; color: #1f2328; text-decoration: none; }
nav.site-nav ol { list-style: none; padding: 0; margin: 0; }
nav.site-nav li a { display: block; padding: .3em .5em; border-radius: 4px; color: #0969da; text-decoration: none; }
nav.site-nav li a:hover { background: #eaeef2; }
nav.site-nav li a.current { background: #ddf4ff; font-weight: 600; color: #1f2328; }
nav.site-nav .nb-num { color: #656d76; font-variant-numeric: tabular-nums; margin-right: .35em; }
main.site-main { margin-left: var(--nav-w); padding: 1.5em 2.5em 3em; max-width: 1100px; box-sizing: border-box; }
header.page-header { border-bottom: 1px solid #d0d7de; margin-bottom: 1.2em; padding-bottom: .6em; font-family: system-ui, sans-serif; }
header.page-header h1 { margin: 0 0 .3em; font-size: 2em; }
header.page-header .description { color: #57606a; font-size: 1.1em; margin: 0 0 .6em; }
.page-links a { display: inline-block; margin-right: .8em; padding: .15em .6em; border: 1px solid #d0d7de;
  border-radius: 4px; text-decoration: none; font-size: 13px; color: #1f2328; background: #fff; }
.page-links a.colab::before { content: "\\25B6\\00a0"; color: #f9ab00; }
footer.page-footer { display: flex; justify-content: space-between; border-top: 1px solid #d0d7de;
  margin-top: 2.5em; padding-top: 1em; font-family: system-ui, sans-serif; }
footer.page-footer a { text-decoration: none; color: #0969da; }
.callout-note, .callout-tip, .callout-warning, .callout-important, .callout-caution {
  border-left: 4px solid #0969da; background: #f6f8fa; padding: .2em 1em; margin: 1em 0; }
.callout-warning, .callout-caution { border-left-color: #bf8700; }
.jp-RenderedHTMLCommon table { font-size: 13px; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
@media (max-width: 800px) { nav.site-nav { position: static; width: auto; } main.site-main { margin-left: 0; } }
"""

PAGE_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block extra_css %}<style type="text/css">{{ resources.site.css }}</style>{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.site.nav }}
<main class="site-main">
{{ resources.site.header }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.site.footer }}
</main>
</body>
{% endblock body_footer %}
"""

def _e(s) -> str: return html.escape(str(s), quote=True)

def nav_html(pages: list[dict], current: str, site_title: str) -> str:
    "The sidebar: every page in reading order, the current one marked."
    items = []
    for p in pages:
        num = re.match(r'^(\d+)[a-zA-Z0-9]*_', p['nb'])
        num = f'<span class="nb-num">{_e(num.group(1))}</span>' if num else ''
        cls = ' class="current" aria-current="page"' if p['page'] == current else ''
        items.append(f'<li><a href="{_e(p["page"])}"{cls}>{num}{_e(p["title"])}</a></li>')
    return (f'<nav class="site-nav"><a class="site-title" href="index.html">{_e(site_title)}</a>'
            f'<ol>{"".join(items)}</ol></nav>')

def header_html(page: dict) -> str:
    "Title, description and the Colab / source links of a page."
    desc = f'<p class="description">{_e(page["description"])}</p>' if page.get('description') else ''
    links = (f'<a class="colab" href="{_e(page["colab"])}">Open in Colab</a>'
             f'<a class="source" href="{_e(page["source"])}">Notebook source</a>')
    return f'<header class="page-header"><h1>{_e(page["title"])}</h1>{desc}<p class="page-links">{links}</p></header>'

def footer_html(pages: list[dict], i: int) -> str:
    "Previous / next links."
    prev = f'<a class="prev" href="{_e(pages[i-1]["page"])}">&larr; {_e(pages[i-1]["title"])}</a>' if i > 0 else '<span></span>'
    nxt = f'<a class="next" href="{_e(pages[i+1]["page"])}">{_e(pages[i+1]["title"])} &rarr;</a>' if i+1 < len(pages) else '<span></span>'
    return f'<footer class="page-footer">{prev}{nxt}</footer>'

def html_exporter():
    "nbconvert's HTML exporter on the JupyterLab template, with the site's page template around it."
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {'docs-remove-input'}
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True
    c.HTMLExporter.template_name = 'lab'
    return HTMLExporter(config=c, extra_loaders=[DictLoader({'galaxy_page.html.j2': PAGE_TEMPLATE})],
                        template_file='galaxy_page.html.j2')

def _title_from(nb_path: Path, fm: dict) -> str:
    return str(fm.get('title') or nb_path.stem)

def build_site(out: Path | str | None = None, nbs_path: Path | None = None, cache: Path | None = None,
               force=False, verbose=True) -> tuple[list[Path], dict]:
    "Render every notebook of `nbs_path` into `out`; return (pages written, {notebook: error of nbdev's show_doc execution})."
    import nbformat
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    nbs_path = Path(nbs_path or cfg.nbs_path)
    out = Path(out or cfg.doc_path)
    cache = Path(cache or ROOT/'_proc')
    doc_url = f"{cfg.doc_host.rstrip('/')}/{cfg.doc_baseurl.strip('/')}" if cfg.get('doc_host') else ''
    owner, repo = github_repo(ROOT)
    branch = cfg.get('branch', 'main')
    out.mkdir(parents=True, exist_ok=True)

    docs, errors = [], {}
    for src in site_notebooks(nbs_path):
        try: proc, note = nbdev_preprocess(src, cache, force=force), None
        except Exception as e:  # a half-finished notebook must not hide its page: render it without show_doc output
            lines = [l for l in str(e).splitlines() if l.strip()] or [type(e).__name__]
            errors[src.name] = lines[0] + (f' {lines[-1]}' if len(lines) > 1 else '')   # nbdev: "... in cell N :" + the error
            if verbose: print(f'FAILED {src.name}: nbdev could not execute it for show_doc\n{traceback.format_exc()}', file=sys.stderr)
            try: proc, note = nbdev_preprocess(src, cache, execute=False), FALLBACK_NOTE.format(error=errors[src.name][:300])
            except Exception: continue
        nb = nbformat.read(proc, as_version=4)
        fm = frontmatter(nb)
        if note: nb.cells.insert(0, nbformat.v4.new_markdown_cell(note))
        quarto_cells(nb, doc_url)
        docs.append(dict(nb=src.name, page=fm.get('output-file') or page_name(src), title=_title_from(src, fm),
                         description=fm.get('description', ''), colab=colab_url(src.name, ROOT, branch, nbs_path.name),
                         source=f'https://github.com/{owner}/{repo}/blob/{branch}/{nbs_path.name}/{src.name}', notebook=nb))
    if not any(d['page'] == 'index.html' for d in docs):
        docs.insert(0, _contents_page(docs, cfg, owner, repo, branch))

    exporter, written = html_exporter(), []
    site_title = repo
    pages = [{k: d[k] for k in ('nb', 'page', 'title')} for d in docs]
    for i, d in enumerate(docs):
        nb = d['notebook']
        nb.metadata['title'] = f"{d['title']} – {site_title}" if d['page'] != 'index.html' else d['title']
        resources = dict(metadata=dict(name=Path(d['page']).stem, path=str(nbs_path)),
                         site=dict(css=SITE_CSS, nav=nav_html(pages, d['page'], site_title),
                                   header=header_html(d), footer=footer_html(pages, i)))
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        dest = out/d['page']
        dest.write_text(body, encoding='utf-8')
        written.append(dest)
        if verbose: print(f'wrote {dest.relative_to(out.parent) if out.parent in dest.parents else dest}  ({d["nb"]})')
    (out/'.nojekyll').touch()
    return written, errors

def _contents_page(docs, cfg, owner, repo, branch) -> dict:
    "An index page listing the notebooks, used only while nbs/index.ipynb does not exist."
    import nbformat
    rows = '\n'.join(f'| [{d["title"]}]({d["page"]}) | {d["description"]} |' for d in docs)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        f'{cfg.get("description", "")}\n\n| notebook | what |\n| --- | --- |\n{rows}\n')])
    return dict(nb='index.ipynb', page='index.html', title=cfg.get('lib_name', repo), description='',
                colab=f'https://github.com/{owner}/{repo}', source=f'https://github.com/{owner}/{repo}', notebook=nb)

# ----------------------------------------------------------------------------- README.md

_re_readme_nb_link = re.compile(r'\]\((?![a-z][a-z0-9+.-]*:|/|nbs/)([^)\s]+\.ipynb(?:#[^)\s]*)?)\)')

def readme_links(md: str) -> str:
    "Relative links to notebooks, which sit in nbs/ while README.md sits at the root, pointed into nbs/."
    return _re_readme_nb_link.sub(r'](nbs/\1)', md)

def _text_outputs(cell) -> list[str]:
    "The text a reader of the README should see from a cell's outputs (no images, no errors)."
    parts = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': txt = ''.join(o.get('text', ''))
        elif o.get('output_type') in ('execute_result', 'display_data'):
            data = o.get('data', {})
            if 'text/markdown' in data: parts.append(readme_links(''.join(data['text/markdown']).strip())); continue
            if any(k.startswith('image/') for k in data) or 'text/html' in data: continue
            txt = ''.join(data.get('text/plain', ''))
        else: continue
        if txt.strip(): parts.append(f'```\n{txt.rstrip()}\n```')
    return parts

def readme_text(index_nb: Path | str) -> str:
    "README.md from the index notebook: markdown as is, code fenced, text outputs kept, hidden cells dropped."
    import nbformat
    nb = nbformat.read(str(index_nb), as_version=4)
    parts = [README_BANNER]
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            if cell.source.strip(): parts.append(readme_links(cell.source.strip()))
        elif cell.cell_type == 'code':
            opts = cell_options(cell)
            if is_hidden(opts): continue
            code = split_options(cell.source)[1].strip('\n')
            if code.strip() and opts.get('echo') != 'false': parts.append(f'```python\n{code}\n```')
            if opts.get('output') != 'false': parts += _text_outputs(cell)
    return '\n\n'.join(parts) + '\n'

def write_readme(index_nb=None, dest=None, check=False) -> bool:
    "Write README.md from nbs/index.ipynb (or with `check`, only say whether it is in step)."
    index_nb = Path(index_nb or ROOT/'nbs'/'index.ipynb')
    dest = Path(dest or ROOT/'README.md')
    if not index_nb.exists(): print(f'no {index_nb}: README.md left as it is'); return True
    new = readme_text(index_nb)
    old = dest.read_text(encoding='utf-8') if dest.exists() else ''
    if check:
        if old != new:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(dest), 'from ' + str(index_nb)))
            print(f'\n{dest} is not in step with {index_nb}: run `make readme`')
        return old == new
    if old != new: dest.write_text(new, encoding='utf-8'); print(f'wrote {dest}')
    else: print(f'{dest} already in step with {index_nb}')
    return True

# ----------------------------------------------------------------------------- command line

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='mode', required=True)
    h = sub.add_parser('html', help='render the notebooks into the docs folder (no Quarto needed)')
    h.add_argument('--out', help='output folder (default: doc_path of pyproject.toml, _docs)')
    h.add_argument('--force', action='store_true', help='redo nbdev preprocessing even where cached')
    h.add_argument('--strict', action='store_true', help='exit 1 when a page had to be built without its signatures')
    r = sub.add_parser('readme', help='write README.md from nbs/index.ipynb')
    r.add_argument('--check', action='store_true', help='only check README.md is in step (exit 1 if not)')
    a = ap.parse_args(argv)
    if a.mode == 'readme': return 0 if write_readme(check=a.check) else 1
    written, errors = build_site(a.out, force=a.force)
    print(f'{len(written)} pages written to {Path(written[0]).parent if written else a.out}')
    for nb, e in errors.items(): print(f'INCOMPLETE: {nb}: nbdev could not execute it for show_doc ({e}); page built without signatures', file=sys.stderr)
    return 1 if errors and a.strict else 0

if __name__ == '__main__': sys.exit(main())
