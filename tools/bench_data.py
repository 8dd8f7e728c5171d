#!/usr/bin/env python
"""Benchmark the input pipeline (galaxy_fastai.images and .data; the timers of galaxy_fastai.speed) on real images.

    .venv/bin/python tools/bench_data.py                      # the shared subset, 0/1/2 workers
    .venv/bin/python tools/bench_data.py --root DATA --out bench.csv --step-bs 32

Prints: the cache build time (fresh, in a temporary folder), images/s of the JPEG-per-item and
cache paths (loading alone and with the paper's batch transforms on this CPU), the cache/JPEG
speed-ups, and the share of a training step of the paper's network spent waiting for data.
Every figure carries the 1-minute load average: this machine may be shared.
"""
import os, tempfile, warnings
from pathlib import Path

warnings.filterwarnings('ignore', category=FutureWarning)
import torch  # noqa: E402 (after the filter: torch and fastai warn on import)
from fastcore.script import call_parse  # noqa: E402

from galaxy_fastai.data import galaxy_dls  # noqa: E402
from galaxy_fastai.speed import bench_loading, data_step_ratio, speedups, time_cache_build  # noqa: E402
from galaxy_fastai.selection import gz2_subset, make_split, read_manifest  # noqa: E402


@call_parse
def main(root:str=None,          # data folder in the Kaggle layout (default: the shared subset)
         manifest:str=None,      # split manifest CSV (default: made from the folder's vote table)
         workers:str='0,1,2',    # numbers of DataLoader workers to time, comma separated
         bs:int=128,             # batch size of the loading benchmark
         step_bs:int=32,         # batch size of the data/step ratio (0: skip it)
         steps:int=2,            # timed training steps of the paper's network
         out:str=None):          # write the loading table to this CSV
    root = Path(root) if root else gz2_subset()
    if root is None: raise SystemExit('no data: pass --root or put the shared subset beside the checkout')
    tmp = Path(tempfile.mkdtemp())
    man = read_manifest(manifest or make_split(root, tmp/'split.csv'))
    print(f'data: {root} ({len(man)} galaxies, {(man.split == "train").sum()} train); {os.cpu_count()} CPUs')
    print('cache build:', time_cache_build(root, man.GalaxyID))
    bench = bench_loading(root, man, workers=tuple(int(w) for w in workers.split(',')), bs=bs)
    print(bench.to_string(index=False)); print(speedups(bench).to_string())
    if out: bench.to_csv(out, index=False); print('written', out)
    if step_bs:
        from galaxy_fastai.resnet import GalaxyResNet
        torch.manual_seed(0)
        dls = galaxy_dls(root, man, bs=step_bs, device="cpu", progress=False)
        print(f'paper network, batch {step_bs}, cache, 0 workers, {torch.get_num_threads()} torch threads:',
              data_step_ratio(dls.train, GalaxyResNet(), steps=steps))
