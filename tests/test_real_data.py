"""Real-data checks of the selection on the shared Kaggle subset; skipped, with a message, where it is absent."""
import pytest

from galaxy_fastai.selection import (FACE_ON_DISK_THRESHOLDS, PAPER_THRESHOLDS, assign_classes, galaxy_data,
                                     gz2_subset, is_data_root, read_solutions, solutions_csv, split_manifest)
from galaxy_fastai.mock import find_data

SUBSET = gz2_subset()
needs_subset = pytest.mark.skipif(SUBSET is None, reason='real subset ../shared/gz2-kaggle-subset not found '
                                  '(set GZ2_SUBSET to its path to run the real-data checks)')


@needs_subset
def test_subset_counts_match_its_readme():
    votes = read_solutions(solutions_csv(SUBSET))
    counts = assign_classes(votes, FACE_ON_DISK_THRESHOLDS).label.value_counts().to_dict()
    assert counts == {0: 578, 1: 598, 2: 41, 3: 260, 4: 987, -1: 1786}


@needs_subset
def test_paper_thresholds_name_the_missing_column():
    votes = read_solutions(solutions_csv(SUBSET))
    with pytest.raises(ValueError, match=r'Class4\.1 is missing.*class 4 \(spiral\) needs it'):
        assign_classes(votes, PAPER_THRESHOLDS)


@needs_subset
def test_subset_split_is_disjoint_and_nine_to_one():
    man = split_manifest(assign_classes(read_solutions(solutions_csv(SUBSET)), FACE_ON_DISK_THRESHOLDS))
    train, test = set(man.GalaxyID[man.split == 'train']), set(man.GalaxyID[man.split == 'test'])
    assert not train & test
    assert (len(train), len(test)) == (2217, 247)


@needs_subset
def test_find_data_takes_the_subset_from_galaxy_data(monkeypatch, capsys, tmp_path):
    "The subset is a data root in the Kaggle layout; `find_data` uses it when GALAXY_DATA names it."
    assert is_data_root(SUBSET) and galaxy_data(SUBSET) == SUBSET
    monkeypatch.setenv('GALAXY_DATA', str(SUBSET))
    assert find_data(download=False, dest=tmp_path/'kaggle') == SUBSET
    assert capsys.readouterr().out == f'find_data: using {SUBSET} (from GALAXY_DATA)\n'
