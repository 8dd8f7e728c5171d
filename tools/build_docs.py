#!/usr/bin/env python
"""Docs tooling for galaxy-fastai (a plain script, not part of the library).

    python tools/build_docs.py site [--strict] [--force]   # the docs site in _docs/, without Quarto
    python tools/build_docs.py readme [--check]            # README.md from nbs/index.ipynb

`make docs` runs `nbdev-docs` where Quarto is on PATH and the `site` mode otherwise. The site mode is
nbdev's own docs pipeline with MkDocs + Material in Quarto's place, from the outputs saved in the
notebooks (nothing is re-executed but the export and import cells nbdev runs to render `show_doc`):

1. every `nbs/*.ipynb` goes through nbdev's docs processors (`FilterDefaults`, as `nbdev-docs` runs them
   before Quarto) into `_proc/`: title and description into frontmatter, hidden cells out, `show_doc`
   rendered as markdown, backticked names linked;
2. each processed notebook becomes one Markdown page in `_proc/.mkdocs/`, named as nbdev names its page
   (`04_resnet.ipynb` -> `resnet.md` -> `resnet.html`), doing the little Quarto would: cell options
   (`echo`, `output`, `include`), figures written as files, nbdev's absolute doc links and links to
   `.ipynb` files made page links, `:::` callouts made admonitions;
3. MkDocs builds `_docs/` from `mkdocs.yml` (Material: navigation, search that works from `file://`
   through the `offline` plugin, an on-page table of contents) and checks every page link and anchor.

This file is also `mkdocs.yml`'s hook: it gives MkDocs the pages in notebook order, headings the ids
pandoc (so Quarto) gives them, which are the anchors nbdev's links point at (`resnet.html#galaxyresnet`,
`#galaxyresnet.forward`), and "edit" links to the notebooks.
"""
from __future__ import annotations

import argparse, base64, difflib, json, os, re, shutil, subprocess, sys, tomllib, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROC = ROOT/'_proc'                   # nbdev's processed notebooks (the folder `nbdev-docs` uses)
PAGES = PROC/'.mkdocs'                # MkDocs' docs_dir: the Markdown pages (a dot folder: nbdev and Quarto skip it)
SHIM = ROOT/'tools'/'iframe-worker-shim.js'
COLAB = 'https://colab.research.google.com/github'
README_BANNER = ('<!-- Generated from nbs/index.ipynb by `make readme` (tools/build_docs.py): '
                 'edit the notebook, not this file. -->')
HIDE_DIRECTIVES = {'hide', 'export', 'exporti', 'default_exp'}  # cells nbdev never shows

# ----------------------------------------------------------------------------- config and pages

def github_repo(root=ROOT) -> tuple[str, str]:
    "(owner, name) of the GitHub repository named by `Repository` in pyproject.toml."
    with open(Path(root)/'pyproject.toml', 'rb') as f: urls = tomllib.load(f)['project'].get('urls', {})
    url = urls.get('Repository', '')
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

def pandoc_slug(value: str, separator: str = '-') -> str:
    "A heading's id as pandoc gives it (so Quarto, so nbdev's links): lower case; letters, digits, `_-.` kept."
    s = re.sub(r'\s+', '-', ''.join(c for c in value.strip().lower() if c.isalnum() or c in '_-. \t\n'))
    s = re.sub(r'^[^a-z\u00c0-\uffff]+', '', s)   # ids start with a letter
    return s or 'section'

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

_re_fm_line = re.compile(r'^(#\s+\S|>\s+\S|-\s+\S.*:.*\S)')

def title_cell_leftovers(nb_path: Path) -> list[str]:
    "Lines of a notebook's title cell that nbdev drops (it keeps `# title`, `> description`, `- key: value`)."
    import nbformat
    for c in nbformat.read(nb_path, as_version=4).cells:
        if c.cell_type == 'markdown' and re.search(r'^#\s+\S', c.source, re.M):
            return [line for line in c.source.splitlines() if line.strip() and not _re_fm_line.match(line)]
    return []

# ----------------------------------------------------------------------------- 1. nbdev's processing

def _without_exec():
    "nbdev's `FilterDefaults` less `exec_show_docs`: the fallback for a notebook whose cells nbdev cannot execute."
    from nbdev.processors import FilterDefaults, exec_show_docs
    class NoExec(FilterDefaults):
        def base_procs(self): return [p for p in super().base_procs() if p is not exec_show_docs]
    return NoExec

def nbdev_preprocess(src: Path, cache: Path, force=False, execute=True) -> Path:
    "Run nbdev's docs processors (`FilterDefaults`) on `src`, as `nbdev-docs` does before Quarto; cached by mtime."
    from nbdev.processors import FilterDefaults
    from nbdev.serve_drv import main as proc_one
    dst = Path(cache)/src.name
    deps = (src, ROOT/'pyproject.toml', ROOT/'galaxy_fastai'/'_modidx.py')
    stale = not dst.exists() or any(p.exists() and p.stat().st_mtime > dst.stat().st_mtime for p in deps)
    if force or not execute or stale:
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix('.tmp')
        old = os.environ.get('IN_TEST')
        try: proc_one((src, tmp, FilterDefaults if execute else _without_exec()))   # sets IN_TEST, as nbdev does
        finally:
            if old is None: os.environ.pop('IN_TEST', None)
            else: os.environ['IN_TEST'] = old
        tmp.replace(dst)
        if not execute: os.utime(dst, (0, 0))  # a fallback is never a valid cache entry
    return dst

FALLBACK_NOTE = ('/// warning | Docs build note\nnbdev could not execute this notebook\'s code for its API '
                 'documentation (`{error}`), so the signatures of its exported functions are missing from this page. '
                 'The usual cause is a cell that mixes imports with other code (see the nbdev FAQ).\n///')

# ----------------------------------------------------------------------------- 2. Markdown pages: what Quarto would do

_re_nb_link = re.compile(r'\]\((?![a-z][a-z0-9+.-]*:)[^)#\s]*?([^)/#\s]+)\.ipynb(#[^)\s]*)?\)')
_re_private_link = re.compile(r'\[(`_\w+`)\]\([^)\s#]*\.md#_[^)\s]*\)')   # an id never starts with `_`
_re_fence_div = re.compile(r'^\s*:::+\s*(\{[^}]*\}|[\w-]+)?\s*$')
CALLOUTS = dict(note='note', tip='tip', warning='warning', caution='warning', important='danger')

def _callouts(md: str) -> str:
    "Quarto `:::` divs: callouts become pymdownx admonitions (`/// note`), other divs just their body."
    out, stack, in_code = [], [], False
    for line in md.splitlines():
        if line.lstrip().startswith(('```', '~~~')): in_code = not in_code
        m = None if in_code else _re_fence_div.match(line)
        if m and m.group(1):
            kind = re.search(r'callout-(\w+)', m.group(1))
            title = re.search(r'title="([^"]*)"', m.group(1))
            stack.append(bool(kind))
            if kind: out.append(f'/// {CALLOUTS.get(kind.group(1), "note")}' + (f' | {title[1]}' if title else ''))
        elif m and stack: out.append('///' if stack.pop() else '')
        elif not m: out.append(line)
    return '\n'.join(out)

def page_markdown(md: str, doc_url: str = '') -> str:
    "nbdev's markdown for MkDocs: links into the doc site and to notebooks become page links; callouts admonitions."
    if doc_url:
        base = re.escape(doc_url.rstrip('/'))
        md = re.sub(rf'\]\({base}/?(#[^)\s]*)?\)', r'](index.md\1)', md)
        md = re.sub(rf'\]\({base}/([^)#\s]+?)\.html(#[^)\s]*)?\)', lambda m: f']({m[1]}.md{m[2] or ""})', md)
    md = _re_nb_link.sub(lambda m: f']({Path(page_name(m.group(1) + ".ipynb")).stem}.md{m.group(2) or ""})', md)
    md = _re_private_link.sub(r'\1', md)   # nbdev links private names too, which have no docs entry: code, no link
    return _callouts(md) if ':::' in md else md

_re_ansi = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

def _fenced(text: str, lang='') -> str:
    "`text` in a code fence longer than any run of backticks inside it."
    fence = '`' * max(3, 1 + max((len(r) for r in re.findall(r'`+', text)), default=0))
    return f'{fence}{lang}\n{_re_ansi.sub("", text).rstrip()}\n{fence}'

IMAGE_TYPES = {'image/png': 'png', 'image/jpeg': 'jpg', 'image/svg+xml': 'svg', 'image/gif': 'gif'}

def output_markdown(o, figure: Path, doc_url='') -> str | None:
    "One cell output as Markdown (figures written next to the page as `figure`.ext)."
    kind = o.get('output_type')
    if kind == 'stream': return _fenced(''.join(o.get('text', '')), 'text')
    if kind == 'error': return _fenced('\n'.join(o.get('traceback', [])) or f"{o.get('ename')}: {o.get('evalue')}")
    data = o.get('data', {})
    if 'text/markdown' in data: return page_markdown(''.join(data['text/markdown']), doc_url)
    for mime, ext in IMAGE_TYPES.items():
        if mime in data:
            raw = ''.join(data[mime])
            figure.parent.mkdir(parents=True, exist_ok=True)
            dest = figure.with_suffix('.' + ext)
            if ext == 'svg': dest.write_text(raw, encoding='utf-8')
            else: dest.write_bytes(base64.b64decode(raw))
            return f'![figure]({dest.parent.name}/{dest.name})'
    if 'text/html' in data: return f'<div class="nb-output" markdown="0">\n{"".join(data["text/html"]).strip()}\n</div>'
    if 'text/plain' in data: return _fenced(''.join(data['text/plain']), 'text')
    return None

def notebook_page(proc_nb: Path, src_nb: Path, out_dir: Path, doc_url='', colab='', note='') -> tuple[str, dict]:
    "The Markdown page (and its frontmatter) of a notebook processed by nbdev; figures go to `out_dir/<page>_files/`."
    import nbformat
    import yaml
    nb = nbformat.read(proc_nb, as_version=4)
    fm = {}
    for i, c in enumerate(nb.cells):
        src = c.source.strip()
        if c.cell_type == 'raw' and src.startswith('---') and src.endswith('---'):
            fm = yaml.safe_load(src.strip('-')) or {}
            del nb.cells[i]
            break
    stem = Path(fm.get('output-file') or page_name(src_nb)).stem
    title, desc = str(fm.get('title') or src_nb.stem), str(fm.get('description') or '')
    meta = {'title': title, 'notebook': src_nb.name, **({'description': desc} if desc else {})}
    parts = ['---\n' + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + '---', f'# {title}']
    if desc: parts.append(f'{desc}\n{{: .nb-description }}')
    if colab: parts.append(f'[Open in Colab]({colab}){{ .md-button }}')
    if note: parts.append(note)
    shutil.rmtree(out_dir/f'{stem}_files', ignore_errors=True)
    for c in nb.cells:
        if c.cell_type == 'markdown':
            if c.source.strip(): parts.append(page_markdown(c.source, doc_url))
        elif c.cell_type == 'code':
            opts, code = split_options(c.source)
            if opts.get('include') == 'false': continue
            if code.strip() and opts.get('echo') != 'false': parts.append(_fenced(code.strip('\n'), 'python'))
            if opts.get('output') == 'false': continue
            for k, o in enumerate(c.get('outputs', [])):
                figs = out_dir/f'{stem}_files'/f'{c.get("id", "cell")}-{k}'
                md = output_markdown(o, figs, doc_url)
                if md: parts.append(md)
    return '\n\n'.join(parts) + '\n', dict(meta, page=f'{stem}.md')

SITE_CSS = '''.nb-description { font-size: 1.1em; color: var(--md-default-fg-color--light); }
.nb-output { overflow-x: auto; margin: 1em 0; }
.nb-output table { font-size: .7rem; border-collapse: collapse; }
.nb-output th, .nb-output td { padding: .2em .6em; border: 1px solid var(--md-default-fg-color--lightest); }
'''

def write_pages(nbs_path: Path | None = None, out: Path = PAGES, cache: Path = PROC, force=False, verbose=True):
    "Steps 1 and 2: nbdev's processing of every notebook, then its Markdown page in `out`; return (pages, errors)."
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    nbs_path = Path(nbs_path or cfg.nbs_path)
    doc_url = f"{cfg.doc_host.rstrip('/')}/{cfg.doc_baseurl.strip('/')}" if cfg.get('doc_host') else ''
    branch = cfg.get('branch', 'main')
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if (nbs_path/'images').is_dir(): shutil.copytree(nbs_path/'images', out/'images')   # pictures the pages link to
    pages, errors = [], {}
    for src in site_notebooks(nbs_path):
        note = ''
        try: proc = nbdev_preprocess(src, cache, force=force)
        except Exception as e:  # a half-finished notebook must not hide its page: render it without show_doc output
            lines = [line for line in str(e).splitlines() if line.strip()] or [type(e).__name__]
            errors[src.name] = lines[0] + (f' {lines[-1]}' if len(lines) > 1 else '')  # nbdev: "... in cell N :", error
            if verbose: print(f'FAILED {src.name}: nbdev could not run it\n{traceback.format_exc()}', file=sys.stderr)
            proc, note = nbdev_preprocess(src, cache, execute=False), FALLBACK_NOTE.format(error=errors[src.name][:300])
        text, meta = notebook_page(proc, src, out, doc_url, colab_url(src.name, ROOT, branch, nbs_path.name), note)
        (out/meta['page']).write_text(text, encoding='utf-8')
        pages.append(meta)
        if verbose: print(f"page {meta['page']:<22} from {src.name}")
    if not any(p['page'] == 'index.md' for p in pages):   # no nbs/index.ipynb yet: a contents page stands in
        rows = ''.join(f"| [{p['title']}]({p['page']}) | {p.get('description', '')} |\n" for p in pages)
        (out/'index.md').write_text(f"# {cfg.get('lib_name', 'Contents')}\n\n| page | what |\n| --- | --- |\n{rows}")
        pages.insert(0, dict(title=cfg.get('lib_name', 'Contents'), notebook='', page='index.md'))
    (out/'site.css').write_text(SITE_CSS)
    (out/'.pages.json').write_text(json.dumps(pages, indent=1))   # the order and titles for the nav (on_config below)
    return pages, errors

# ----------------------------------------------------------------------------- 3. MkDocs, and its hook

def on_config(config):
    "Pages in notebook order, pandoc's heading ids, and the iframe-worker shim served from the site, not a CDN."
    index = Path(config.docs_dir)/'.pages.json'
    if not config.nav and index.exists():
        pages = json.loads(index.read_text())
        num = lambda nb: f'{m[1]} ' if (m := re.match(r'(\d+)[a-z]?_', nb)) else ''
        config.nav = [{num(p['notebook']) + p['title']: p['page']} for p in pages]
    config.mdx_configs.setdefault('toc', {})['slugify'] = pandoc_slug
    # Material's offline plugin makes search work from file:// with a shim that it loads from unpkg.com; serve a copy
    config.extra['polyfills'] = [u for u in config.extra.get('polyfills', []) if 'iframe-worker' not in u] + [SHIM.name]
    return config
on_config.mkdocs_priority = -100   # after Material's offline plugin has added its CDN shim

def on_files(files, config):
    "The shim as a site file; the 'edit' link of each page leads to its notebook."
    from mkdocs.structure.files import File
    files.append(File.generated(config, SHIM.name, abs_src_path=str(SHIM)))
    index = Path(config.docs_dir)/'.pages.json'
    notebooks = {p['page']: p['notebook'] for p in json.loads(index.read_text())} if index.exists() else {}
    for f in files:
        if f.src_uri in notebooks: f.edit_uri = f'nbs/{notebooks[f.src_uri]}' if notebooks[f.src_uri] else None
    return files

def build_site(strict=False, force=False, verbose=True) -> tuple[list[dict], dict, int]:
    "Steps 1-3; return (pages, {notebook: error of nbdev's show_doc execution}, mkdocs' exit status)."
    pages, errors = write_pages(force=force, verbose=verbose)
    cmd = [sys.executable, '-m', 'mkdocs', 'build', '-f', str(ROOT/'mkdocs.yml'), *(['--strict'] if strict else [])]
    env = {**os.environ, 'NO_MKDOCS_2_WARNING': '1'}   # Material's end-of-life notice: see CONTRIBUTING.md
    rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=None if verbose else subprocess.DEVNULL).returncode
    return pages, errors, rc

# ----------------------------------------------------------------------------- README.md

_re_readme_nb_link = re.compile(r'\]\((?![a-z][a-z0-9+.-]*:|/|nbs/)([^)\s]+\.ipynb(?:#[^)\s]*)?)\)')
_re_readme_image = re.compile(r'(!\[[^\]]*\])\((images/[^)\s]+)\)')

def readme_links(md: str) -> str:
    "Relative links to notebooks and to `images/`, which sit in nbs/ (README.md sits at the root), pointed into nbs/."
    return _re_readme_image.sub(r'\1(nbs/\2)', _re_readme_nb_link.sub(r'](nbs/\1)', md))

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
            diff = difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(dest), f'from {index_nb}')
            sys.stdout.writelines(diff)
            print(f'\n{dest} is not in step with {index_nb}: run `make readme`')
        return old == new
    if old != new: dest.write_text(new, encoding='utf-8'); print(f'wrote {dest}')
    else: print(f'{dest} already in step with {index_nb}')
    return True

# ----------------------------------------------------------------------------- command line

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='mode', required=True)
    s = sub.add_parser('site', help='the docs site in _docs/ (nbdev processing, then MkDocs; no Quarto needed)')
    s.add_argument('--force', action='store_true', help="redo nbdev's processing even where cached")
    s.add_argument('--strict', action='store_true', help='fail on a broken link or anchor or a page without signatures')
    r = sub.add_parser('readme', help='write README.md from nbs/index.ipynb')
    r.add_argument('--check', action='store_true', help='only check README.md is in step (exit 1 if not)')
    a = ap.parse_args(argv)
    if a.mode == 'readme': return 0 if write_readme(check=a.check) else 1
    for nb in site_notebooks(ROOT/'nbs'):
        if lost := title_cell_leftovers(nb):
            print(f'WARNING: {nb.name}: nbdev drops these lines of the title cell from the docs '
                  f'(give them a cell of their own): {lost[:3]}', file=sys.stderr)
    pages, errors, rc = build_site(strict=a.strict, force=a.force)
    print(f'{len(pages)} pages in {ROOT/"_docs"}' if rc == 0 else f'mkdocs failed (exit {rc})')
    for nb, e in errors.items():
        print(f'INCOMPLETE: {nb}: nbdev could not run it for show_doc ({e}); page lacks signatures', file=sys.stderr)
    return rc or (1 if errors and a.strict else 0)

if __name__ == '__main__': sys.exit(main())
