"""Property-based tests (Hypothesis) of the input side, on generated tables and images (never the real data).

(a) Any vote table is either read and assigned consistently (every row a class −1..4, the same on re-reading and
    after a round trip through CSV) or refused with a `SelectionError` that names the file and what is wrong in it
    (a column, and GalaxyIDs or rows for bad values): never another exception.
(b) Any image file decodes to a uint8 3×side×side crop or raises a `BadImageError` naming the file: never another
    exception; an intact file of a usable mode and size always decodes, to PIL's own RGB conversion.

Kept fast (a few seconds): modest `max_examples`, small images, no example database written into the checkout.
"""
import contextlib, io, itertools, os, re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from PIL import Image

from galaxy_fastai.selection import (KAGGLE_COLUMNS, PAPER_THRESHOLDS, SelectionError, assign_classes, read_solutions,
                                     thresholds_for)
from galaxy_fastai.images import RGB_CONVERSIONS, BadImageError, read_centre
from galaxy_fastai.mock import mock_data

EXAMPLES = int(os.environ.get('GALAXY_FASTAI_EXAMPLES', 60))   # more for a thorough run by hand
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
_n = itertools.count()


@pytest.fixture(scope='module')
def folder(tmp_path_factory): return tmp_path_factory.mktemp('props')


def _fresh(folder, suffix): return folder/f'f{next(_n)}{suffix}'


def _kind(msg:str, path) -> str:
    "The kind of a refusal, for Hypothesis' statistics: its message without the file, numbers and details."
    msg = re.split(r'[(:]| for | in rows', msg.replace(f'{path}: ', '', 1))[0]
    return re.sub(r"column '?Class[^ ]+ |[0-9]+", '', msg).strip()[:40]


# --- (a) vote tables ---------------------------------------------------------------------------------------------

JUNK_COLUMNS = ['Class12.1', 'Class1.1 ', 'Class1.10', 'ClassX', 'notes', 'Unnamed: 0']
CELLS = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, 0.43, 0.469, 0.5, 0.602, 0.619, 0.715]),
                  st.floats(-2, 3), st.just(float('nan')), st.sampled_from(['x', '', ' ', 'NaN', '-1', '1e9', 'inf']),
                  st.text(max_size=4))
FAULTS = ['junk column', 'nan', 'negative', 'above 1', 'string', 'duplicate id', 'no GalaxyID', 'bad id', 'no rows']
NEEDED = {c for cuts in PAPER_THRESHOLDS.values() for c, _ in cuts if c != 'Class4.1'}   # Class4.1: the proxy without


@st.composite
def vote_tables(draw):
    "A table of Kaggle columns with valid fractions, then 0–3 random faults (or, a third of the time, any cells)."
    some = st.lists(st.sampled_from(KAGGLE_COLUMNS), unique=True, min_size=1, max_size=10)
    with_needed = some.map(lambda c: sorted(set(c) | NEEDED, key=KAGGLE_COLUMNS.index))
    cols = draw(st.one_of(some, st.just(KAGGLE_COLUMNS), with_needed))
    n = draw(st.integers(1, 8))
    ids = draw(st.lists(st.integers(100000, 999999), min_size=n, max_size=n, unique=True))
    df = pd.DataFrame({'GalaxyID': pd.Series(ids, dtype=object)})
    anything = draw(st.integers(0, 2)) == 0
    for c in cols: df[c] = pd.Series([draw(CELLS if anything else st.floats(0, 1)) for _ in range(n)], dtype=object)
    faults = draw(st.lists(st.sampled_from(FAULTS), max_size=3))
    for f in faults:
        row = draw(st.integers(0, max(n - 1, 0)))
        col = draw(st.sampled_from(cols))
        if f == 'junk column': df[draw(st.sampled_from(JUNK_COLUMNS))] = draw(CELLS)
        elif f == 'no GalaxyID' and 'GalaxyID' in df: df = df.drop(columns='GalaxyID')
        elif f == 'no rows': df = df.iloc[:0]
        elif len(df) == 0: continue
        elif f == 'duplicate id' and 'GalaxyID' in df: df.loc[row, 'GalaxyID'] = df.GalaxyID.iloc[0]
        elif f == 'bad id' and 'GalaxyID' in df: df.loc[row, 'GalaxyID'] = draw(st.sampled_from(['', 'x', 1.5, -3]))
        elif f in ('nan', 'negative', 'above 1', 'string'):
            df.loc[row, col] = {'nan': float('nan'), 'negative': -0.25, 'above 1': 1.5, 'string': 'half'}[f]
    return df, anything or bool(faults)


def _names_the_fault(msg:str, path, df):
    "A refusal names the file, then what is wrong with it as a whole, or a column (and GalaxyIDs or rows for values)."
    assert msg.startswith(f'{path}: ') or 'is missing from the vote-fraction table' in msg, msg
    if re.search(r': (not a CSV table|not UTF-8 text|the file is empty)', msg): return     # the file as a whole
    assert 'empty' in msg or any(str(c) in msg for c in ['GalaxyID', *df.columns, *KAGGLE_COLUMNS]), msg
    if re.search(r'values|fractions outside', msg): assert re.search(r'(GalaxyIDs|rows) -?\w', msg), msg


def _assign(df):
    with contextlib.redirect_stdout(io.StringIO()): thresholds = thresholds_for(df)
    return assign_classes(df, thresholds)


@pytest.mark.filterwarnings('ignore:overflow encountered in divide')   # conditional: a subnormal parent fraction
@SETTINGS
@given(vote_tables())
def test_any_vote_table_is_read_consistently_or_refused_by_name(folder, table):
    df, faulty = table
    path = _fresh(folder, '.csv'); df.to_csv(path, index=False)
    try:
        votes = read_solutions(path)
        assigned = _assign(votes)
    except SelectionError as e:
        assert faulty or not NEEDED <= set(df.columns), str(e)
        _names_the_fault(str(e), path, df)
        event(f'refused: {_kind(str(e), path)}')
        return
    event('read and assigned')
    assert len(assigned) == len(df)
    assert set(assigned.label) <= set(range(-1, 5))
    assert assigned.GalaxyID.tolist() == votes.GalaxyID.tolist()
    pd.testing.assert_frame_equal(_assign(read_solutions(path)), assigned)                 # re-reading: the same
    again = _fresh(folder, '.csv'); votes.to_csv(again, index=False)
    pd.testing.assert_frame_equal(_assign(read_solutions(again)), assigned)                # a round trip: the same
    try: assign_classes(votes, PAPER_THRESHOLDS, conditional=True)
    except SelectionError as e: assert 'missing' in str(e) or 'needs' in str(e), str(e)


@SETTINGS
@given(st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda s: s.encode('utf-8')),
                 st.text(max_size=100).map(lambda s: s.encode('utf-16')),
                 st.sampled_from([b'', b'\xff\xd8\xff\xe0' + bytes(50), b'PK\x03\x04' + bytes(30)])))
def test_any_file_is_a_table_or_refused_naming_it(folder, data):
    path = _fresh(folder, '.csv'); path.write_bytes(data)
    try: votes = read_solutions(path)
    except SelectionError as e: assert str(e).startswith(f'{path}: '), str(e); event(f'refused: {_kind(str(e), path)}')
    else: assert 'GalaxyID' in votes.columns and len(votes) > 0; event('read')


# --- (b) image files ---------------------------------------------------------------------------------------------

MODES = ['L', 'RGB', 'RGBA', 'P', 'LA', 'CMYK', 'I;16', '1', 'I', 'F']
FORMATS = ['JPEG', 'PNG', 'TIFF', 'BMP', 'GIF']
SIZES = st.one_of(st.integers(1, 20), st.integers(48, 80))       # often too small for the crop, as often not


@pytest.fixture(scope='module')
def mock_jpeg(tmp_path_factory):
    "The bytes of one mock galaxy's JPEG (424×424, as Kaggle's), made in a temporary cache folder."
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('GALAXY_FASTAI_HOME', str(tmp_path_factory.mktemp('home')))
        root = mock_data(n=2)
    return sorted((root/'images_training_rev1').glob('*.jpg'))[0].read_bytes()


def _image_bytes(mode:str, fmt:str, w:int, h:int, seed:int) -> bytes:
    "Random pixels in `mode`, saved as `fmt` (TIFF where PIL cannot save that mode as `fmt`)."
    rng = np.random.default_rng(seed)
    if mode in ('I;16', 'I', 'F'):
        a = rng.integers(0, 65535, (h, w)).astype({'I;16': np.uint16, 'I': np.int32, 'F': np.float32}[mode])
        im = Image.fromarray(a) if mode != 'I' else Image.fromarray(a).convert('I')
    else: im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode)
    for f in (fmt, 'TIFF'):
        try: b = io.BytesIO(); im.save(b, f); return b.getvalue()
        except (OSError, KeyError, ValueError): continue
    raise AssertionError(f'PIL cannot save mode {mode}')


def _mutate(data:bytes, how:str, at:float, junk:bytes) -> bytes:
    i = int(at * len(data))
    if how == 'truncate': return data[:i]
    if how == 'flip': return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:] if i < len(data) else data
    if how == 'append': return data + junk
    if how == 'junk': return junk
    return data


def _check(path, side, expect_ok=None, expected=None):
    try: a = read_centre(path, side)
    except BadImageError as e:
        assert str(path) in str(e), str(e); event(f'refused: {_kind(str(e), path)}')
        if ': corrupt image (' in str(e): event(f'PIL raised {type(e.__cause__).__name__}')
        assert expect_ok is not True, f'{path}: refused: {e}'
        return
    assert (a.dtype, a.shape, a.flags['C_CONTIGUOUS']) == (np.uint8, (3, side, side), True)
    assert expect_ok is not False, f'{path}: read, but should have been refused'
    event('decoded')
    if expected is not None: np.testing.assert_array_equal(a, expected)


@pytest.mark.filterwarnings('ignore::UserWarning')      # PIL's notes on the corrupt files it is given
@SETTINGS
@given(mode=st.sampled_from(MODES), fmt=st.sampled_from(FORMATS), w=SIZES, h=SIZES, side=st.sampled_from([8, 16, 48]),
       seed=st.integers(0, 2**16),
       how=st.sampled_from(['none', 'none', 'truncate', 'flip', 'append', 'junk']), at=st.floats(0, 1),
       junk=st.binary(max_size=64))
def test_any_image_file_decodes_or_is_refused_by_name(folder, mode, fmt, w, h, side, seed, how, at, junk):
    data = _image_bytes(mode, fmt, w, h, seed)
    path = _fresh(folder, '.jpg'); path.write_bytes(_mutate(data, how, at, junk))
    expect_ok = expected = None
    if how == 'none':
        with Image.open(io.BytesIO(data)) as im:
            im.load(); stored = im.mode
            rgb = np.asarray(im.convert('RGB')) if stored == 'RGB' or stored in RGB_CONVERSIONS else None
        expect_ok = rgb is not None and min(w, h) >= side
        if expect_ok:
            top, left = (h - side) // 2, (w - side) // 2
            expected = rgb[top:top + side, left:left + side].transpose(2, 0, 1)
    _check(path, side, expect_ok, expected)


@pytest.mark.filterwarnings('ignore::UserWarning')
@SETTINGS
@given(how=st.sampled_from(['truncate', 'flip', 'append', 'junk', 'none']), at=st.floats(0, 1),
       junk=st.binary(max_size=64))
def test_mock_jpeg_damaged_anywhere_decodes_or_is_refused_by_name(folder, mock_jpeg, how, at, junk):
    path = _fresh(folder, '.jpg'); path.write_bytes(_mutate(mock_jpeg, how, at, junk))
    _check(path, 240, expect_ok=True if how in ('none', 'append') else None)   # bytes after the end marker: ignored
