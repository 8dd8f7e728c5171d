#!/usr/bin/env python
"""Issue 6 §5: training throughput of the paper's network on a GPU (batch 128, bf16, channels_last), and where the time goes.

    python tools/gpu_bench.py --out DIR        # on a CUDA machine; prints a table last, writes DIR/gpu_bench.json
    python tools/gpu_bench.py --quick          # a few steps of each stage (also runs on a CPU: a smoke test of this script)

Each stage is timed after a warm-up, with the GPU synchronised around the timed region:

- `model`: the paper's network's training step alone in plain PyTorch (the project's Nesterov SGD, bf16 autocast,
  channels_last) on a GPU-resident batch: what the network costs, with Python and kernel-launch overhead;
- `model-fp32`: the same step in fp32 and NCHW (what bf16 + channels_last buy);
- `graph`: the bf16 step captured once as a CUDA graph and replayed (the step without Python or launch overhead);
- `compile`: the bf16 step with `torch.compile` (default mode), compile time reported apart;
- `tfms`: the paper's batch transforms alone (S crop + TF1 resize, crop 64, dihedral, colour, whitening) on a GPU batch;
- `loader W`: the training loader of `galaxy_dls` (decoded-once crops, batch transforms on the GPU) with W workers, no model;
- `items W`: the same loader with no transfer and no transforms (what the workers deliver to the main process);
- `learner W`: fastai's `Learner` from `schedule_learner`, timed by `train_throughput`: the real training loop
  (`Wf`: with `PrefetchBatches`, building batches ahead in a background thread);
- `split W`: that loop with the GPU synchronised before and after each step: median wait for a batch vs median step;
- `baselines`: the training step of every registered model (bf16, channels_last, batch 128), GPU-resident batch.

The loader reads the crops of `--n-mock` mock galaxies, tiled to the paper's 28,790 galaxies (25,911 training, so
epochs are as long as the paper's: 202 iterations): per item it does what the real data needs (one memmap row, 3×240×240
uint8). Every row gives images/s and the projected wall time of the paper's 72k iterations at batch 128.
"""
import gc, json, os, sys, tempfile, time, traceback, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
import numpy as np, torch, torch.nn as nn
from fastcore.script import call_parse

ITERS_72K, PAPER_BS, K80_HOURS = 72_000, 128, 31.5   # the paper, §4.5: 72k iterations at batch 128 took 31.5 h on a K80
TILED_GALAXIES = 28_790                              # the paper's sample (Table 2), split 9:1


def sync():
    if torch.cuda.is_available(): torch.cuda.synchronize()

def row(stage, ips, **extra):
    "A result row: images/s and the projected time of 72k iterations at batch 128."
    return dict(stage=stage, images_per_s=round(ips, 1), ms_per_iter_128=round(1000 * PAPER_BS / ips, 2),
                projected_72k_min=round(ITERS_72K * PAPER_BS / ips / 60, 1), **extra)

def time_steps(step, n, warmup):
    "Seconds per call of `step` over `n` calls after `warmup` calls."
    for _ in range(warmup): step()
    sync(); t0 = time.perf_counter()
    for _ in range(n): step()
    sync(); return (time.perf_counter() - t0) / n

def bare_step(model, bs, dev, bf16=True, cl=True):
    "A closure doing one training step of `model` on a fixed random batch with the project's Nesterov SGD (bf16 on CUDA only)."
    from galaxy_fastai.train import nesterov_sgd
    mf = torch.channels_last if cl else torch.contiguous_format
    model = model.to(dev).to(memory_format=mf).train()
    opt = nesterov_sgd(list(model.parameters()), lr=0.01).opt
    x = torch.randn(bs, 3, 64, 64, device=dev).contiguous(memory_format=mf); y = torch.randint(0, 5, (bs,), device=dev)
    loss_fn = nn.CrossEntropyLoss()
    def fwd_bwd():
        with torch.autocast(dev.type, torch.bfloat16, enabled=bf16 and dev.type == 'cuda'): loss = loss_fn(model(x), y)
        loss.backward(); return loss
    def step():
        opt.zero_grad(set_to_none=True); fwd_bwd(); opt.step()
    return step, model, opt, fwd_bwd, x

def stage_model(dev, n, warmup, bs=PAPER_BS, big=(512, 2048)):
    from galaxy_fastai.resnet import GalaxyResNet, count_macs
    out = []
    torch.manual_seed(0)
    macs = count_macs(GalaxyResNet())
    for name, bf16, cl in (('model', True, True), ('model-fp32', False, False)):
        step, *_ = bare_step(GalaxyResNet(), bs, dev, bf16, cl)
        s = time_steps(step, n, warmup)
        out.append(row(name, bs / s, bs=bs, note='bf16 autocast, channels_last' if bf16 else 'fp32, NCHW'))
    # the arithmetic floor: forward + backward ≈ 3 × forward, 2 FLOPs per MAC
    out[0]['train_tflops_achieved'] = round(6 * macs * out[0]['images_per_s'] / 1e12, 2)
    out[0]['gmacs_per_image'] = round(macs / 1e9, 3)
    for b in big:
        step, *_ = bare_step(GalaxyResNet(), b, dev)
        s = time_steps(step, max(n // 4, 2), max(warmup // 2, 1))
        out.append(row(f'model bs{b}', b / s, bs=b, note='bf16, channels_last: is batch 128 too small to fill the GPU?'))
    return out

def stage_graph(dev, n, warmup, bs=PAPER_BS):
    "The whole bf16 training step (forward, backward, SGD) captured as one CUDA graph."
    if dev.type != 'cuda': return [dict(stage='graph', note='needs CUDA')]
    from galaxy_fastai.resnet import GalaxyResNet
    torch.manual_seed(0)
    step, model, opt, fwd_bwd, x = bare_step(GalaxyResNet(), bs, dev)
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3): step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(g):
        fwd_bwd(); opt.step()
    sec = time_steps(g.replay, n, warmup)
    return [row('graph', bs / sec, bs=bs, note='whole bf16 step as one CUDA graph (no Python, no launch gaps)')]

def stage_compile(dev, n, warmup, bs=PAPER_BS):
    from galaxy_fastai.resnet import GalaxyResNet
    torch.manual_seed(0)
    step, *_ = bare_step(torch.compile(GalaxyResNet()), bs, dev)
    t0 = time.perf_counter(); step(); step(); sync(); ct = time.perf_counter() - t0
    sec = time_steps(step, n, warmup)
    return [row('compile', bs / sec, bs=bs, compile_s=round(ct, 1), note='torch.compile default mode, bf16, channels_last')]

def stage_baselines(dev, n, warmup, bs=PAPER_BS):
    from galaxy_fastai.baselines import MODELS, get_model
    out = []
    for name in MODELS:
        try:
            torch.manual_seed(0)
            step, model, *_ = bare_step(get_model(name), bs, dev)
            sec = time_steps(step, n, warmup)
            out.append(row(f'baseline {name}', bs / sec, bs=bs, params=sum(p.numel() for p in model.parameters())))
        except Exception as e: out.append(dict(stage=f'baseline {name}', error=f'{type(e).__name__}: {e}'[:300]))
        finally: torch.cuda.empty_cache() if dev.type == 'cuda' else None
    return out

class Tiled:
    "GalaxyID i → the crop of galaxy ids[i % len(ids)] of a `GalaxyCache`: a data set of any length with real per-item work."
    def __init__(self, cache, ids): self.cache, self.ids = cache, list(ids)
    def __getitem__(self, gid): return self.cache[self.ids[int(gid) % len(self.ids)]]

def tiled_dls(n_mock, bs, workers, dev, pin:bool|None=None):
    "`source_dls` (the loaders of `galaxy_dls`) over mock crops tiled to 28,790 galaxies; `pin`: pin host memory (default: as `galaxy_dls`)."
    from galaxy_fastai.data import galaxy_cache, source_dls
    from galaxy_fastai.mock import mock_data
    from galaxy_fastai.selection import make_split, read_manifest, CLASS_NAMES
    root = mock_data(n_mock)
    man = read_manifest(make_split(root, Path(tempfile.mkdtemp())/'split.csv'))
    cache = galaxy_cache(root, man.GalaxyID, progress=False)
    ids, labels = man.GalaxyID.astype(int).tolist(), man.label.astype(int).tolist()
    n_test = TILED_GALAXIES // 10
    return source_dls(Tiled(cache, ids), range(TILED_GALAXIES), {i: labels[i % len(ids)] for i in range(TILED_GALAXIES)},
                      CLASS_NAMES, [range(n_test, TILED_GALAXIES), range(n_test)], bs=bs, num_workers=workers, device=dev,
                      pin_memory=pin)

def stage_tfms(dev, n, warmup, n_mock, bs=PAPER_BS):
    dls = tiled_dls(n_mock, bs, 0, dev)
    b = dls.train.create_batch([dls.train.dataset[i] for i in range(bs)])
    b = tuple(t.to(dev) for t in b)
    sec = time_steps(lambda: dls.train.after_batch(b), n, warmup)
    return [row('tfms', bs / sec, bs=bs, note='batch transforms alone on a device batch of uint8 240×240 crops')]

def worker_spec(spec:str) -> tuple:
    "'8' → (8 workers, pinning as `galaxy_dls`, no prefetch); suffixes: 'p' pinned, 'u' unpinned, 'f' `PrefetchBatches` (learner only)."
    w = int(spec.rstrip('puf'))
    return w, (True if 'p' in spec else False if 'u' in spec else None), 'f' in spec

def time_loader(dl, n, warmup):
    "Seconds per batch of `dl` over up to `n` batches after `warmup` (within one epoch)."
    n = min(n, len(dl) - warmup)
    it = iter(dl)
    for _ in range(warmup): next(it)
    sync(); t0 = time.perf_counter()
    for _ in range(n): next(it)
    sync(); sec = (time.perf_counter() - t0) / n
    del it; gc.collect()     # shut this loader's workers down here, not in the next loader's forked workers
    return sec

def stage_loader(dev, n, warmup, n_mock, workers, bs=PAPER_BS):
    from fastai.data.core import Pipeline
    out = []
    for spec in workers:
        w, pin, prefetch = worker_spec(spec)
        dl = tiled_dls(n_mock, bs, w, dev, pin).train
        out.append(row(f'loader {spec}w', bs / time_loader(dl, n, warmup), bs=bs, workers=w,
                       note='items + collate + transfer + batch transforms, no model'))
        raw = dl.new(after_batch=Pipeline([]), device=None)
        out.append(row(f'items {spec}w', bs / time_loader(raw, n, warmup), bs=bs, workers=w,
                       note='items + collate in workers, to the main process: no transfer, no transforms'))
    return out

def stage_split(dev, n, warmup, n_mock, workers, bs=PAPER_BS):
    "Where an iteration of the real loop goes: waiting for the batch (fetch, transfer, transforms) vs the step, each synchronised."
    from dataclasses import replace
    from fastai.callback.core import Callback
    from galaxy_fastai.resnet import GalaxyResNet
    from galaxy_fastai.train import PAPER_SCHEDULE, fit_schedule, schedule_learner
    class Split(Callback):
        order = 102
        def before_fit(self): self.prev, self.waits, self.steps = None, [], []
        def before_batch(self):
            if not self.training: return
            sync(); self.t0 = time.perf_counter()
            if self.prev is not None: self.waits.append(self.t0 - self.prev)
        def after_batch(self):
            if not self.training: return
            sync(); self.prev = time.perf_counter(); self.steps.append(self.prev - self.t0)
    out = []
    for spec in workers:
        w, pin, prefetch = worker_spec(spec)
        torch.manual_seed(0)
        learn = schedule_learner(tiled_dls(n_mock, bs, w, dev, pin), GalaxyResNet(), PAPER_SCHEDULE)
        cb = Split()
        with learn.no_logging(), learn.no_bar():
            fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=min(n, 150) + warmup, milestones=()), cbs=[cb])
        wait, step = 1000 * np.median(cb.waits[warmup:]), 1000 * np.median(cb.steps[warmup:])
        out.append(row(f'split {spec}w', bs / (wait + step) * 1000, bs=bs, workers=w, wait_ms=round(wait, 2), step_ms=round(step, 2),
                       note='synchronised: median wait for batch (fetch+transfer+tfms) and step (fwd+bwd+SGD+callbacks)'))
    return out

def stage_learner(dev, n, warmup, n_mock, workers, bs=PAPER_BS):
    from fastai.callback.fp16 import MixedPrecision
    from galaxy_fastai.resnet import GalaxyResNet
    from galaxy_fastai.train import PAPER_SCHEDULE, PrefetchBatches, schedule_learner, train_throughput
    out = []
    for spec in workers:
        w, pin, prefetch = worker_spec(spec)
        torch.manual_seed(0)
        learn = schedule_learner(tiled_dls(n_mock, bs, w, dev, pin), GalaxyResNet(), PAPER_SCHEDULE)
        fast = any(isinstance(c, MixedPrecision) for c in learn.cbs)
        r = train_throughput(learn, n_iters=n, warmup=warmup, cbs=[PrefetchBatches()] if prefetch else None)
        out.append(row(f'learner {spec}w', r['images_per_s'], bs=bs, workers=w, bf16_channels_last=fast,
                       note='fastai Learner + fit_schedule, the real training loop'))
    return out


@call_parse
def main(out:str=None,            # folder for gpu_bench.json
         quick:bool=False,        # a few steps of each stage: a smoke test (runs on a CPU too)
         n_mock:int=1024,         # mock galaxies to generate and tile
         workers:str='8,14',      # DataLoader workers for the loader, learner and split stages; suffixes p/u: pinned/unpinned, f: prefetch
         stages:str='model,graph,tfms,loader,learner,split,baselines,compile',
         budget_s:float=420.):    # skip the stages not started after this many seconds
    t_start = time.perf_counter()
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    n, warmup = (3, 1) if quick else (200, 20)
    bs, big = (8, (16,)) if quick else (PAPER_BS, (512, 2048))
    ws = workers.split(',')
    info = dict(torch=torch.__version__, device=torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu',
                cpus=os.cpu_count(), n_iters=n, warmup=warmup)
    print(json.dumps(info), flush=True)
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True
    runs = dict(model=lambda: stage_model(dev, n, warmup, bs, big), graph=lambda: stage_graph(dev, n, warmup, bs),
                compile=lambda: stage_compile(dev, n, warmup, bs),
                baselines=lambda: stage_baselines(dev, max(n // 4, 2), max(warmup // 2, 1), bs),
                tfms=lambda: stage_tfms(dev, n, warmup, n_mock, bs),
                loader=lambda: stage_loader(dev, n, warmup, n_mock, ws, bs),
                learner=lambda: stage_learner(dev, n, warmup, n_mock, ws, bs),
                split=lambda: stage_split(dev, n, warmup, n_mock, ws, bs))
    rows = []
    for name in stages.split(','):
        el = time.perf_counter() - t_start
        if el > budget_s: rows.append(dict(stage=name, note=f'skipped: {el:.0f} s > budget {budget_s:.0f} s')); continue
        t0 = time.perf_counter()
        try: new = runs[name]()
        except Exception as e:
            traceback.print_exc(); new = [dict(stage=name, error=f'{type(e).__name__}: {e}'[:300])]
        for r in new: r['stage_s'] = round(time.perf_counter() - t0, 1)
        rows += new
        for r in new: print(json.dumps(r), flush=True)
    if dev.type == 'cuda': info['max_memory_allocated_gb'] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    info['total_s'] = round(time.perf_counter() - t_start, 1)
    info['k80_paper'] = row('K80 (paper §4.5: 31.5 h)', ITERS_72K * PAPER_BS / (K80_HOURS * 3600))
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out)/'gpu_bench.json').write_text(json.dumps(dict(info=info, rows=rows), indent=1))
    import pandas as pd
    cols = ['stage', 'images_per_s', 'ms_per_iter_128', 'projected_72k_min', 'wait_ms', 'step_ms', 'stage_s', 'note', 'error']
    print(json.dumps(info))
    print(pd.DataFrame(rows).reindex(columns=cols).to_string(index=False, max_colwidth=60))
    failed = [r['stage'] for r in rows if 'error' in r]
    if failed: sys.exit(f'failed stages: {", ".join(failed)}')
