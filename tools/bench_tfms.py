#!/usr/bin/env python
"""Time the paper's batch transforms (galaxy_fastai.data.paper_batch_tfms) on this CPU; count fastai dispatches.

    .venv/bin/python tools/bench_tfms.py                  # batches of 8 and 128, train and test side, one torch thread
    .venv/bin/python tools/bench_tfms.py --bs 32 --reps 20

Prints, per batch size and side: the median over 5 rounds of `reps` calls of the ms per batch (uint8 240×240 crops in,
whitened 64×64 floats out), and how many torch operations of one call ran on fastai tensor types (each one a call of
fastai's `TensorBase.__torch_function__`, the Python overhead `on_plain` removes). Every figure carries the 1-minute
load average: this machine may be shared.
"""
import os, time, warnings

warnings.filterwarnings('ignore', category=FutureWarning)
import torch  # noqa: E402 (after the filter: torch and fastai warn on import)
from fastcore.script import call_parse  # noqa: E402
from fastai.data.core import Pipeline  # noqa: E402
from fastai.torch_core import TensorImage  # noqa: E402

from galaxy_fastai.images import CACHE_SIDE  # noqa: E402
from galaxy_fastai.data import fastai_dispatches, paper_batch_tfms  # noqa: E402


@call_parse
def main(bs:str='8,128',    # batch sizes, comma separated
         reps:int=20,       # calls per timed round (5 rounds)
         threads:int=1):    # torch threads (GalaxyDL runs the transforms on one)
    torch.set_num_threads(threads); torch.manual_seed(0)
    for b in (int(s) for s in bs.split(',')):
        xb = TensorImage(torch.randint(0, 256, (b, 3, CACHE_SIDE, CACHE_SIDE), dtype=torch.uint8))
        for split, side in ((0, 'train'), (1, 'test')):
            pipe = Pipeline(paper_batch_tfms(), split_idx=split)
            for _ in range(3): pipe(xb)
            rounds = []
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(reps): pipe(xb)
                rounds.append((time.perf_counter() - t0) / reps * 1000)
            n = fastai_dispatches(pipe, xb)
            print(f'bs {b:4d} {side:5s}: {sorted(rounds)[2]:7.2f} ms per batch, {n:4d} fastai-dispatched ops, '
                  f'load {os.getloadavg()[0]:.2f}', flush=True)
