"""Lines of at most 120 characters everywhere in the package, tools and tests.

ruff checks the same (`make lint`) but allows 130 in the package, for the one line nbdev writes itself: the first
line of `__all__`, which nbdev-export wraps at 120 characters before putting `__all__ = ` in front of it.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX = 120


def _long_lines(paths):
    for p in paths:
        for i, line in enumerate(p.read_text(encoding='utf-8').split('\n'), 1):
            if len(line) > MAX and not line.startswith('__all__ = '): yield f'{p.relative_to(ROOT)}:{i}: {len(line)}'


def test_no_line_over_120():
    files = [p for p in sorted((ROOT/'galaxy_fastai').glob('*.py')) if p.name != '_modidx.py']
    files += sorted((ROOT/'tools').glob('*.py')) + sorted((ROOT/'tests').glob('*.py'))
    assert files, 'no files found'
    assert list(_long_lines(files)) == []
