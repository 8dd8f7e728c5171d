"""Test-time views beyond the eight, on saved runs (15_benchmark's cross-validation folds, or any benchmark run).

For each run folder (its `run.json`, `model.pth` and `labels.npy`, as `run_case` writes them), the class
probabilities of the test galaxies averaged over
- the eight dihedral views at each Q of `TEST_SCALES` (what the runs were scored with; checked against the run's own
  `probs_mean.npy`),
- the eight views at Q = 170, 180, …, 240 (the training range of S, in steps of 10),
- the eight views at the four Q and five 64×64 windows of the 80×80 resize (centre and corners), as Dieleman et al.
  pool views over crops.
Prints per-run and pooled right counts, and the exact McNemar test of each against the eight views at four Q.

    .venv/bin/python tools/bench_views.py "$GALAXY_OUTPUTS"/cv10/fold*/compact_cnn_deep-best-86016
"""
import argparse, json, os, time, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

from galaxy_fastai.data import (TEST_SCALES, BatchRandomCrop, dl_at_scale, galaxy_dls, labels_of,  # noqa: E402
                                window_index)
from galaxy_fastai.metrics import DihedralTTA  # noqa: E402
from galaxy_fastai.models import get_model  # noqa: E402
from galaxy_fastai.runs import load_weights, read_run_info  # noqa: E402

EXTRA_SCALES = (170, 190, 210, 230)
CORNERS = ((0, 0), (0, 16), (16, 0), (16, 16))


def fixed_window(dl, offset):
    "Make the test crop of `dl` take the window at `offset` (top, left) of each resized image instead of the centre."
    crop = next(t for t in dl.after_batch.fs if isinstance(t, BatchRandomCrop))
    centred = crop.before_call
    def before_call(b, split_idx):
        centred(b, split_idx)
        n = len(crop.tops)
        crop.tops, crop.lefts = torch.full((n,), offset[0]), torch.full((n,), offset[1])
        crop.draws = dict(rows=window_index(crop.tops, crop.size), cols=window_index(crop.lefts, crop.size))
    crop.before_call = before_call
    return dl


def view_probs(net, dls, q, offset=None) -> np.ndarray:
    "Class probabilities of the test galaxies at Q = `q`, averaged over the eight dihedral views."
    dl = dl_at_scale(dls, q)
    if offset is not None: dl = fixed_window(dl, offset)
    tta = DihedralTTA(net).eval()
    with torch.no_grad(): return torch.cat([tta(xb).exp() for xb, _ in dl]).numpy()


def run_views(run: Path) -> tuple:
    "(labels, {view set: probabilities}) of one run folder."
    info = read_run_info(run)
    dls = galaxy_dls(info['data'], info['manifest'], bs=64, device='cpu', progress=False, **info['data_kwargs'])
    net = get_model(info['model'], n_out=len(dls.vocab), **info.get('model_kwargs', {}))
    net.load_state_dict(load_weights(run/'model.pth')); net.eval()
    y = labels_of(dls).numpy()
    if not np.array_equal(y, np.load(run/'labels.npy')): raise ValueError(f'{run}: labels differ from labels.npy')
    at_q = {q: view_probs(net, dls, q) for q in TEST_SCALES}
    base = np.mean(list(at_q.values()), 0)
    saved = np.load(run/'probs_mean.npy')
    if not np.allclose(base, saved, atol=1e-4):
        raise ValueError(f'{run}: the eight views at four Q do not reproduce probs_mean.npy '
                         f'(max difference {np.abs(base - saved).max():.2g})')
    more_q = np.mean(list(at_q.values()) + [view_probs(net, dls, q) for q in EXTRA_SCALES], 0)
    crops = np.mean([base] + [np.mean([view_probs(net, dls, q, o) for q in TEST_SCALES], 0) for o in CORNERS], 0)
    return y, {'8 views x 4 Q': base, f'8 views x {len(TEST_SCALES) + len(EXTRA_SCALES)} Q (170-240)': more_q,
               '8 views x 4 Q x 5 windows': crops}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('runs', nargs='+', type=Path, help='run folders with run.json, model.pth, labels.npy')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    ys, by_set = [], {}
    print('| run | view set | right | galaxies | seconds | load |\n|---|---|---:|---:|---:|---:|')
    for run in a.runs:
        t0 = time.perf_counter()
        y, sets = run_views(run)
        ys.append(y)
        for k, pr in sets.items():
            by_set.setdefault(k, []).append(pr)
            print(f'| {run.parent.name}/{run.name} | {k} | {int((pr.argmax(1) == y).sum())} | {len(y)} | '
                  f'{time.perf_counter() - t0:.0f} | {os.getloadavg()[0]:.1f} |')
    y = np.concatenate(ys)
    right = {k: np.concatenate(v).argmax(1) == y for k, v in by_set.items()}
    base = right['8 views x 4 Q']
    print(f'\nPooled over {len(a.runs)} runs, {len(y)} galaxies:\n\n| view set | right | accuracy % | only this | '
          'only 8 x 4 | McNemar p |\n|---|---:|---:|---:|---:|---:|')
    for k, r in right.items():
        gain, loss = int((r & ~base).sum()), int((base & ~r).sum())
        pval = binomtest(gain, gain + loss).pvalue if gain + loss else 1.0
        print(f'| {k} | {int(r.sum())} | {100 * r.mean():.2f} | {gain} | {loss} | {pval:.3f} |')
    print(json.dumps({k: int(r.sum()) for k, r in right.items()}))


if __name__ == '__main__': main()
