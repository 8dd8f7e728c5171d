#!/usr/bin/env python
"""Training throughput of the paper's network on a GPU (batch 128, bf16, channels_last), and where the time goes.

The pieces it times are those of galaxy_fastai.speed (nbs/09_speed.ipynb), which sums up its figures.

    python tools/gpu_bench.py --out DIR        # on a CUDA machine; prints a table last, writes DIR/gpu_bench.json
    python tools/gpu_bench.py --quick          # a few steps of each stage (runs on a CPU too: a smoke test)

Each stage is timed after a warm-up, with the GPU synchronised around the timed region:

- `model`: the paper's network's training step alone in plain PyTorch (the project's Nesterov SGD, fused on CUDA, bf16
  autocast, channels_last) on a GPU-resident batch: what the network costs, with Python and kernel-launch overhead;
  `model-foreach`: with PyTorch's default multi-tensor SGD instead; `model-slice`: with the strided shortcut as a slice,
  as 04_resnet first had it (its gradient comes back in NCHW layout); `model-pool`: as a 1×1 stride-2 average pool, as
  04_resnet had it next (slow channels_last backward kernel), before its `subsample`;
- `model-fp32`: the same step in fp32 and NCHW (what bf16 + channels_last buy);
- `graph`: the bf16 step captured once as a CUDA graph and replayed (the step without Python or launch overhead);
  `graph-pool`, `profile-pool`, `check-pool`: those stages with the shortcut as a pool, as before `subsample`;
- `compile`: the bf16 step with `torch.compile` (default mode), compile time reported apart;
  `graph-compile`: the compiled step (Inductor's fused kernels) captured as one CUDA graph, as `graph`;
- `tfms`: the paper's training-side batch transforms alone (S crop + TF1 resize, crop 64, dihedral, colour, whitening)
  on a GPU batch; `tfms-graph`: the same through `speed.GraphedPipeline` (draws on the host, one copy, one replay);
- `profile`: the eager bf16 step under `torch.profiler`: the GPU kernels that take its time, and how busy the GPU is;
- `run`: whole epochs of the real loop (`--run-epochs`; 5 = 1,010 iterations), validation included (after every epoch,
  or every `--run-valid-every` epochs), timed by the wall clock;
- `syncs`: where the real loop (on the `D` loaders) makes the host wait for the GPU, by call site
  (`set_sync_debug_mode`);
- `loader W`: the training loader of `galaxy_dls` (decoded-once crops, batch transforms on the GPU) with W workers, no
  model (W = `D`: `speed.device_dls`, the crops held on the GPU and gathered there, no workers);
- `items W`: the same loader with no transfer and no transforms (what the workers deliver to the main process);
- `learner W`: fastai's `Learner` from `schedule_learner`, timed by `train_throughput`: the real training loop
  (`Wf`: with `PrefetchBatches`, building batches ahead in a background thread; `Wg`: with `CudaGraphModel`, the
  model's forward and backward replayed as CUDA graphs; `Wt`: with `CudaGraphTfms`, the batch transforms replayed as a
  CUDA graph; `Wgc`: `CudaGraphModel(compile=True)`, the model's forward compiled with `torch.compile` before it is
  recorded; `Wo`: with the old pooled shortcut);
- `hostprof W`: the real loop under `cProfile` (main thread): where the host's time goes per iteration;
- `check-compile`: `check` with `CudaGraphModel(compile=True)` (Inductor's kernels: close to, not bit-identical with,
  eager);
- `check-tfms`: `GraphedPipeline` against the pipeline itself on 8 seeded training batches (largest difference);
- `check`: `CudaGraphModel` against the ordinary step: the same seeded 40-iteration run (no dropout) eager twice and
  graphed once, from crops held on the GPU; the relative weight difference graphed-vs-eager beside eager-vs-eager;
- `split W`: that loop with the GPU synchronised before and after each step: median wait for a batch vs median step;
- `baselines`: the training step of every registered model (bf16, channels_last, batch 128), GPU-resident batch.

The loader reads the crops of `--n-mock` mock galaxies, tiled to the paper's 28,790 galaxies (25,911 training, so
epochs are as long as the paper's: 202 iterations): per item it does what the real data needs (one memmap row, 3×240×240
uint8). Every row gives images/s and the projected wall time of the paper's 72k iterations at batch 128.
"""
import gc, json, os, sys, tempfile, time, traceback, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
import numpy as np, torch, torch.nn as nn  # noqa: E402 (after the filter: torch and fastai warn on import)
from fastcore.script import call_parse  # noqa: E402

ITERS_72K, PAPER_BS, K80_HOURS = 72_000, 128, 31.5   # the paper, §4.5: 72k iterations at batch 128 took 31.5 h on a K80
TILED_GALAXIES = 28_790                              # the paper's sample (Table 2), split 9:1
N_GALAXIES = TILED_GALAXIES                          # the tiling in use (set by `main`)
QUICK_GALAXIES = 2_000                               # --quick: a smaller tiling (the device-held crops are 173 KB each)


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

def bare_step(model, bs, dev, bf16=True, cl=True, fused=None):
    "A closure: one training step of `model` on a fixed random batch, the project's Nesterov SGD (bf16 on CUDA only)."
    from galaxy_fastai.train import nesterov_sgd
    mf = torch.channels_last if cl else torch.contiguous_format
    model = model.to(dev).to(memory_format=mf).train()
    opt = nesterov_sgd(list(model.parameters()), lr=0.01, fused=fused).opt
    x = torch.randn(bs, 3, 64, 64, device=dev).contiguous(memory_format=mf); y = torch.randint(0, 5, (bs,), device=dev)
    loss_fn = nn.CrossEntropyLoss()
    def fwd_bwd():
        with torch.autocast(dev.type, torch.bfloat16, enabled=bf16 and dev.type == 'cuda'): loss = loss_fn(model(x), y)
        loss.backward(); return loss
    def step():
        opt.zero_grad(set_to_none=True); fwd_bwd(); opt.step()
    return step, model, opt, fwd_bwd, x

def subsample_matches_pool(dev) -> bool:
    "Whether the library's `Subsample` gives the pooled shortcut's output and gradient exactly (NHWC bf16 on `dev`)."
    import torch.nn.functional as F
    from galaxy_fastai.resnet import Subsample
    x = torch.randn(4, 16, 9, 9, device=dev, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
    g = torch.randn(4, 16, 5, 5, device=dev, dtype=torch.bfloat16)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = F.avg_pool2d(a, 1, 2), Subsample.apply(b, 2)
    ya.backward(g); yb.backward(g)
    same = torch.equal(ya, yb) and torch.equal(a.grad, b.grad)
    return same and b.grad.is_contiguous(memory_format=torch.channels_last)

def _slice_shortcut(self, x, a):   # the shortcut before the pool: x[..., ::2, ::2], whose gradient comes back NCHW
    if self.proj is not None: return self.proj(a)
    return x[..., ::self.stride, ::self.stride] if self.stride > 1 else x

def _pool_shortcut(self, x, a):   # the shortcut before `subsample`: a 1×1 stride-2 average pool (slow NHWC backward)
    if self.proj is not None: return self.proj(a)
    return torch.nn.functional.avg_pool2d(x, 1, self.stride) if self.stride > 1 else x

def with_shortcut(model:nn.Module, kind:str='library') -> nn.Module:
    "`model` with the strided identity shortcut of its `PreActBottleneck`s as 'library' (`subsample`), 'pool', 'slice'."
    import types
    from galaxy_fastai.resnet import PreActBottleneck
    if kind == 'library': return model
    fn = dict(slice=_slice_shortcut, pool=_pool_shortcut)[kind]
    for m in model.modules():
        if isinstance(m, PreActBottleneck): m.shortcut = types.MethodType(fn, m)
    return model

def stage_model(dev, n, warmup, bs=PAPER_BS, big=(512, 2048), only=None):
    from galaxy_fastai.resnet import GalaxyResNet, count_macs
    out = []
    torch.manual_seed(0)
    macs = count_macs(GalaxyResNet())
    same = subsample_matches_pool(dev)
    variants = (('model', True, True, None, 'library',
                 f'bf16 autocast, channels_last, fused SGD (subsample = pool: {same})'),
                ('model-fp32', False, False, None, 'library', 'fp32, NCHW'),
                ('model-foreach', True, True, False, 'library', 'bf16, channels_last, foreach SGD (not fused)'),
                ('model-slice', True, True, None, 'slice',
                 'bf16, channels_last, fused SGD, sliced shortcut (NCHW gradients)'),
                ('model-pool', True, True, None, 'pool',
                 'bf16, channels_last, fused SGD, pooled shortcut (as before subsample)'))
    for name, bf16, cl, fused, shortcut, note in variants:
        if only and name not in only: continue
        step, *_ = bare_step(with_shortcut(GalaxyResNet(), shortcut), bs, dev, bf16, cl, fused)
        s = time_steps(step, n, warmup)
        out.append(row(name, bs / s, bs=bs, note=note))
    # the arithmetic floor: forward + backward ≈ 3 × forward, 2 FLOPs per MAC
    if out: out[0].update(train_tflops_achieved=round(6 * macs * out[0]['images_per_s'] / 1e12, 2),
                          gmacs_per_image=round(macs / 1e9, 3))
    for b in (big if not only or 'big' in only else ()):
        step, *_ = bare_step(GalaxyResNet(), b, dev)
        s = time_steps(step, max(n // 4, 2), max(warmup // 2, 1))
        out.append(row(f'model bs{b}', b / s, bs=b, note='bf16, channels_last: is batch 128 too small for the GPU?'))
    return out

def stage_graph(dev, n, warmup, bs=PAPER_BS, shortcut='library', compile=False):
    "The whole bf16 training step (forward, backward, SGD) as one CUDA graph; `compile`: of the compiled model."
    name = 'graph' + ('' if shortcut == 'library' else f'-{shortcut}') + ('-compile' if compile else '')
    if dev.type != 'cuda': return [dict(stage=name, note='needs CUDA')]
    from galaxy_fastai.resnet import GalaxyResNet
    torch.manual_seed(0)
    model = with_shortcut(GalaxyResNet(), shortcut)
    step, model, opt, fwd_bwd, x = bare_step(torch.compile(model) if compile else model, bs, dev)
    t0 = time.perf_counter()
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3): step()
    torch.cuda.current_stream().wait_stream(s)
    sync(); warm_s = time.perf_counter() - t0
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(g):
        fwd_bwd(); opt.step()
    sec = time_steps(g.replay, n, warmup)
    return [row(name, bs / sec, bs=bs, warmup_s=round(warm_s, 1),
                note=f'whole bf16 step as one CUDA graph (no Python, no launch gaps), {shortcut} shortcut'
                     + (', torch.compile (default mode) inside' if compile else ''))]

def stage_compile(dev, n, warmup, bs=PAPER_BS):
    from galaxy_fastai.resnet import GalaxyResNet
    torch.manual_seed(0)
    step, *_ = bare_step(torch.compile(GalaxyResNet()), bs, dev)
    t0 = time.perf_counter(); step(); step(); sync(); ct = time.perf_counter() - t0
    sec = time_steps(step, n, warmup)
    return [row('compile', bs / sec, bs=bs, compile_s=round(ct, 1),
                note='torch.compile default mode, bf16, channels_last')]

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
    "GalaxyID i → the crop of galaxy ids[i % len(ids)] of a `GalaxyCache`: any length, with real per-item work."
    def __init__(self, cache, ids): self.cache, self.ids = cache, list(ids)
    def __getitem__(self, gid): return self.cache[self.ids[int(gid) % len(self.ids)]]

def tiled_device_crops(cache, ids, n:int, dev):
    "A `DeviceCrops` on `dev` of `n` galaxies: GalaxyID i (row i) holds the crop of ids[i % len(ids)] of `cache`."
    from galaxy_fastai.speed import DeviceCrops
    class TiledDeviceCrops(DeviceCrops):
        def __init__(self):
            self.tile = torch.tensor([cache.rows[int(g)] for g in ids])[torch.arange(n) % len(ids)]
            super().__init__(cache, dev)
        @property
        def images(self):
            if self._images is None: self._images = super().images[self.tile.to(self.device)]   # tiled on the device
            return self._images
        def row(self, galaxy_id): return int(galaxy_id)
    return TiledDeviceCrops()

def tiled_dls(n_mock, bs, workers, dev, pin:bool|None=None, device_source:bool=False, n:int=TILED_GALAXIES):
    "`source_dls` over mock crops tiled to `n` galaxies; `pin`: pin host memory; `device_source`: crops held on `dev`."
    from galaxy_fastai.images import galaxy_cache
    from galaxy_fastai.data import source_dls
    from galaxy_fastai.mock import mock_data
    from galaxy_fastai.selection import make_split, read_manifest, CLASS_NAMES
    root = mock_data(n_mock)
    man = read_manifest(make_split(root, Path(tempfile.mkdtemp())/'split.csv'))
    cache = galaxy_cache(root, man.GalaxyID, progress=False)
    ids, labels = man.GalaxyID.astype(int).tolist(), man.label.astype(int).tolist()
    n_test = n // 10
    src = tiled_device_crops(cache, ids, n, dev) if device_source else Tiled(cache, ids)
    return source_dls(src, range(n), {i: labels[i % len(ids)] for i in range(n)},
                      CLASS_NAMES, [range(n_test, n), range(n_test)], bs=bs, num_workers=workers, device=dev,
                      pin_memory=pin)

def stage_tfms(dev, n, warmup, n_mock, bs=PAPER_BS, graphed=False):
    "The training-side batch transforms alone on a device batch; `graphed`: through `GraphedPipeline`."
    from galaxy_fastai.speed import GraphedPipeline
    dls = tiled_dls(n_mock, bs, 0, dev, n=N_GALAXIES)
    b = dls.train.create_batch([dls.train.dataset[i] for i in range(bs)])
    b = tuple(t.to(dev) for t in b)
    pipe = dls.train.after_batch
    pipe.split_idx = 0   # the training side (fastai sets it when a loader starts iterating; before, None: test side)
    if graphed: pipe = GraphedPipeline(pipe, record=dev.type == 'cuda')
    sec = time_steps(lambda: pipe(b), n, warmup)
    extra = dict(batches=pipe.batches) if graphed else {}
    return [row('tfms-graph' if graphed else 'tfms', bs / sec, bs=bs, **extra,
                note='training-side batch transforms alone on a device batch of uint8 240×240 crops'
                     + (', one CUDA graph replay' if graphed else ''))]

def worker_spec(spec:str) -> dict:
    "'8': 8 workers, pinning as `galaxy_dls`; 'D': crops on the device; suffixes p u f g t c o (`main`'s `workers`)."
    core = spec.rstrip('pufgotc')
    return dict(workers=0 if core == 'D' else int(core), pin=True if 'p' in spec else False if 'u' in spec else None,
                prefetch='f' in spec, device_source=core == 'D', graph='g' in spec, graph_tfms='t' in spec,
                compile='c' in spec,
                shortcut='pool' if 'o' in spec[len(core):] else 'library')

def spec_model(spec, **kw):
    "The paper's network, with the strided shortcut that worker spec `spec` asks for."
    from galaxy_fastai.resnet import GalaxyResNet
    return with_shortcut(GalaxyResNet(**kw), worker_spec(spec)['shortcut'])

def spec_dls(n_mock, bs, spec, dev):
    "The tiled loaders that worker spec `spec` describes."
    w = worker_spec(spec)
    return tiled_dls(n_mock, bs, w['workers'], dev, w['pin'], w['device_source'], N_GALAXIES)

def spec_cbs(spec) -> list:
    "The training callbacks that worker spec `spec` asks for."
    from galaxy_fastai.speed import CudaGraphModel, CudaGraphTfms, PrefetchBatches
    w = worker_spec(spec)
    return ([PrefetchBatches()] * w['prefetch'] + [CudaGraphModel(compile=w['compile'])] * w['graph']
            + [CudaGraphTfms()] * w['graph_tfms'])

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
        w = worker_spec(spec)['workers']
        dl = spec_dls(n_mock, bs, spec, dev).train
        out.append(row(f'loader {spec}w', bs / time_loader(dl, n, warmup), bs=bs, workers=w,
                       note='items + collate + transfer + batch transforms, no model'))
        raw = dl.new(after_batch=Pipeline([]), device=None)
        out.append(row(f'items {spec}w', bs / time_loader(raw, n, warmup), bs=bs, workers=w,
                       note='items + collate in workers, to the main process: no transfer, no transforms'))
    return out

def stage_split(dev, n, warmup, n_mock, workers, bs=PAPER_BS):
    "Where an iteration of the real loop goes: waiting for the batch (fetch, transfer, transforms) vs the step."
    from dataclasses import replace
    from fastai.callback.core import Callback
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
        w = worker_spec(spec)['workers']
        torch.manual_seed(0)
        learn = schedule_learner(spec_dls(n_mock, bs, spec, dev), spec_model(spec), PAPER_SCHEDULE)
        cb = Split()
        with learn.no_logging(), learn.no_bar():
            fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=min(n, 150) + warmup, milestones=()),
                         cbs=[cb] + spec_cbs(spec))
        wait, step = 1000 * np.median(cb.waits[warmup:]), 1000 * np.median(cb.steps[warmup:])
        out.append(row(f'split {spec}w', bs / (wait + step) * 1000, bs=bs, workers=w, wait_ms=round(wait, 2),
                       step_ms=round(step, 2),
                       note='synchronised: median wait for batch (fetch+transfer+tfms), step (fwd+bwd+SGD+callbacks)'))
    return out

def stage_learner(dev, n, warmup, n_mock, workers, bs=PAPER_BS):
    from fastai.callback.fp16 import MixedPrecision
    from galaxy_fastai.train import PAPER_SCHEDULE, schedule_learner
    from galaxy_fastai.speed import train_throughput
    out = []
    for spec in workers:
        w = worker_spec(spec)['workers']
        torch.manual_seed(0)
        learn = schedule_learner(spec_dls(n_mock, bs, spec, dev), spec_model(spec), PAPER_SCHEDULE)
        fast = any(isinstance(c, MixedPrecision) for c in learn.cbs)
        r = train_throughput(learn, n_iters=n, warmup=warmup, cbs=spec_cbs(spec))
        out.append(row(f'learner {spec}w', r['images_per_s'], bs=bs, workers=w, bf16_channels_last=fast,
                       note='fastai Learner + fit_schedule, the real training loop'))
    return out

def stage_hostprof(dev, n, warmup, n_mock, specs, bs=PAPER_BS, top=40):
    "Where the host's time goes in the real loop: `cProfile` of the main thread over `n` iterations after `warmup`."
    import cProfile, io, pstats
    from dataclasses import replace
    from fastai.callback.core import Callback
    from galaxy_fastai.train import PAPER_SCHEDULE, fit_schedule, schedule_learner
    out = []
    for spec in specs:
        prof = cProfile.Profile()
        class Prof(Callback):
            order = 101
            def before_batch(self):
                if self.training and self.learn.iteration == warmup:
                    sync(); self.t0 = time.perf_counter(); prof.enable()
            def after_fit(self): prof.disable(); sync(); self.t1 = time.perf_counter()
        torch.manual_seed(0)
        learn = schedule_learner(spec_dls(n_mock, bs, spec, dev), spec_model(spec), PAPER_SCHEDULE)
        cb = Prof()
        with learn.no_logging(), learn.no_bar():
            fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=warmup + n, milestones=()), cbs=[cb] + spec_cbs(spec))
        st = pstats.Stats(prof)
        buf = io.StringIO(); pstats.Stats(prof, stream=buf).sort_stats('cumulative').print_stats(top)
        print(buf.getvalue()[-12000:], flush=True)
        def rows(key):
            fns = sorted(st.stats.items(), key=lambda kv: kv[1][key], reverse=True)[:top]
            return [dict(fn=f'{Path(f).name}:{line} {name}'[:100], cum_ms=round(1000 * ct / n, 3),
                         self_ms=round(1000 * tt / n, 3), calls=round(nc / n, 1))
                    for (f, line, name), (cc, nc, tt, ct, callers) in fns]
        out.append(row(f'hostprof {spec}', bs * n / (cb.t1 - cb.t0), bs=bs, top=rows(3), top_self=rows(2),
                       note='cProfile of the main thread (slows Python ~2x): per-iteration cumulative and self ms '
                            'of the heaviest functions'))
    return out

def stage_check(dev, n_mock, bs=PAPER_BS, iters=40, spec='D', compile=False):
    "`CudaGraphModel` (`compile`: compiled) vs the plain step: a seeded run eager twice, graphed once; weight gaps."
    name = 'check' + ('-compile' if compile else '')
    if dev.type != 'cuda': return [dict(stage=name, note='needs CUDA')]
    from dataclasses import replace
    from galaxy_fastai.train import PAPER_SCHEDULE, fit_schedule, schedule_learner, seed_everything
    from galaxy_fastai.speed import CudaGraphModel
    dls = tiled_dls(n_mock, bs, 0, dev, None, True, N_GALAXIES)
    def run(graph):
        seed_everything(0, dls, reproducible=False)
        learn = schedule_learner(dls, spec_model(spec, p_drop=0.), PAPER_SCHEDULE)
        t0 = time.perf_counter()
        with learn.no_logging(), learn.no_bar():
            fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=iters, milestones=()),
                         cbs=[CudaGraphModel(compile=compile)] if graph else None)
        sync()
        w = torch.cat([p.detach().float().flatten() for p in learn.model.parameters()])
        return w, float(learn.recorder.losses[-1]), time.perf_counter() - t0, 'forward' in learn.model.__dict__
    (e1, l1, t1, _), (e2, l2, t2, _), (g, lg, tg, left) = run(False), run(False), run(True)
    rel = lambda a, b: float((a - b).norm() / b.norm())
    return [dict(stage=f'{name} {spec}', iters=iters, eager_vs_eager=rel(e2, e1), graph_vs_eager=rel(g, e1),
                 smooth_loss_eager=(round(l1, 4), round(l2, 4)), smooth_loss_graph=round(lg, 4),
                 fit_s=(round(t1, 1), round(t2, 1), round(tg, 1)), forward_restored=not left,
                 note='relative L2 weight difference after the run; eager-vs-eager is the noise of non-deterministic '
                      'kernels')]

def stage_check_tfms(dev, n_mock, bs=PAPER_BS, k=8):
    "`GraphedPipeline` against the pipeline: the same `k` seeded training batches (crops on the device); largest gap."
    if dev.type != 'cuda': return [dict(stage='check-tfms', note='needs CUDA')]
    from galaxy_fastai.speed import GraphedPipeline
    dl = tiled_dls(n_mock, bs, 0, dev, None, True, N_GALAXIES).train
    pipe = dl.after_batch; pipe.split_idx = 0
    batch = lambda j: dl.create_batch([dl.dataset[i] for i in range(j * bs, (j + 1) * bs)])
    bs_ = [tuple(t.to(dev) for t in batch(j)) for j in range(k)]
    def run(p): torch.manual_seed(0); return [p(b)[0].clone() for b in bs_]
    e1, e2 = run(pipe), run(pipe)
    gp = GraphedPipeline(pipe); g = run(gp)
    diff = lambda a, b: max(float((x - y).abs().max()) for x, y in zip(a, b))
    return [dict(stage='check-tfms', batches=k, eager_vs_eager=diff(e1, e2), graph_vs_eager=diff(g, e1),
                 counts=gp.batches,
                 note='largest absolute difference over the whitened batches; the first graphed batch is op by op')]

def stage_run(dev, n_mock, specs, bs=PAPER_BS, epochs=5, valid_every=1):
    "Whole epochs of the real loop, validation passes included, by the wall clock: the plainest projection of 72k."
    from dataclasses import replace
    from galaxy_fastai.train import PAPER_SCHEDULE, fit_schedule, schedule_learner
    from galaxy_fastai.speed import ValidEvery
    out, tag = [], f' v{valid_every}' if valid_every > 1 else ''
    for spec in specs:
        torch.manual_seed(0)
        dls = spec_dls(n_mock, bs, spec, dev)
        learn = schedule_learner(dls, spec_model(spec), PAPER_SCHEDULE)
        iters = epochs * len(dls.train)
        sync(); t0 = time.perf_counter()
        with learn.no_logging(), learn.no_bar():
            fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=iters, milestones=()),
                         cbs=spec_cbs(spec) + [ValidEvery(valid_every)] * (valid_every > 1))
        sync(); wall = time.perf_counter() - t0
        every = f' (every {valid_every} epochs)' if valid_every > 1 else ''
        out.append(row(f'run {spec} {epochs}ep{tag}', iters * bs / wall, bs=bs, iters=iters, wall_s=round(wall, 1),
                       valid_passes=sum(r[1] is not None for r in learn.recorder.values),
                       note=f'{epochs} epochs of fit_schedule, first step and validation{every} included'))
    return out

def stage_syncs(dev, n_mock, specs, bs=PAPER_BS, iters=30):
    "Where the real loop makes the host wait for the GPU (`set_sync_debug_mode('warn')`) over `iters` steps, by site."
    if dev.type != 'cuda': return [dict(stage='syncs', note='needs CUDA')]
    from collections import Counter
    from dataclasses import replace
    from galaxy_fastai.train import PAPER_SCHEDULE, fit_schedule, schedule_learner
    out = []
    for spec in specs:
        torch.manual_seed(0)
        learn = schedule_learner(spec_dls(n_mock, bs, spec, dev), spec_model(spec), PAPER_SCHEDULE)
        with learn.no_logging(), learn.no_bar():
            fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=3, milestones=()), cbs=spec_cbs(spec))   # warm-up
            sites, stacks = Counter(), Counter()
            def record(message, category, filename, lineno, file=None, line=None):
                if 'ynchroniz' not in str(message): return
                sites[f'{Path(filename).name}:{lineno}'] += 1
                frames = [f for f in traceback.extract_stack()[:-1]
                          if '/torch/' not in f.filename and 'warnings' not in f.filename]
                stacks[' < '.join(f'{Path(f.filename).name}:{f.lineno} {f.name}' for f in reversed(frames[-5:]))] += 1
            with warnings.catch_warnings():
                warnings.simplefilter('always'); warnings.showwarning = record
                torch.cuda.set_sync_debug_mode('warn')
                try: fit_schedule(learn, replace(PAPER_SCHEDULE, max_iters=iters, milestones=()), cbs=spec_cbs(spec))
                finally: torch.cuda.set_sync_debug_mode(0)
        out.append(dict(stage=f'syncs {spec}', iters=iters, syncs_per_iter=round(sum(sites.values()) / iters, 2),
                        sites=dict(sites.most_common(12)), stacks=dict(stacks.most_common(6)),
                        note='host waits for the GPU, by call site (and the Python frames outside torch above it)'))
    return out

def stage_profile(dev, bs=PAPER_BS, n=10, top=30, shortcut='library'):
    "The eager bf16 step under `torch.profiler`: its heaviest GPU operations and the GPU's busy time per step."
    name = 'profile' + ('' if shortcut == 'library' else f'-{shortcut}')
    if dev.type != 'cuda': return [dict(stage=name, note='needs CUDA')]
    from torch.profiler import ProfilerActivity, profile
    from galaxy_fastai.resnet import GalaxyResNet
    torch.manual_seed(0)
    step, *_ = bare_step(with_shortcut(GalaxyResNet(), shortcut), bs, dev)
    for _ in range(10): step()
    sync(); t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(n): step()
        sync()
    wall = (time.perf_counter() - t0) / n
    ka = prof.key_averages()
    dt = lambda e: getattr(e, 'self_device_time_total', None) or getattr(e, 'self_cuda_time_total', 0)
    busy = sum(dt(e) for e in ka) / n / 1e3
    heavy = sorted(ka, key=dt, reverse=True)[:top]
    ops = [dict(op=e.key[:90], ms_per_step=round(dt(e) / n / 1e3, 3), calls_per_step=e.count // n)
           for e in heavy if dt(e) > 0]
    sort = 'self_device_time_total' if hasattr(ka[0], 'self_device_time_total') else 'self_cuda_time_total'
    print(ka.table(sort_by=sort, row_limit=top), flush=True)
    return [dict(stage=name, ms_per_step_wall=round(wall * 1e3, 2), gpu_busy_ms_per_step=round(busy, 2), ops=ops,
                 note='self GPU time of each operation per step (profiler on: slower than the model row)')]


@call_parse
def main(out:str=None,            # folder for gpu_bench.json
         quick:bool=False,        # a few steps of each stage: a smoke test (runs on a CPU too)
         n_mock:int=1024,         # mock galaxies to generate and tile
         # loaders of the loader, learner and split stages: N workers or D (crops on the device); suffixes p/u:
         # pinned/unpinned, f: prefetch, g: CUDA graph, t: graphed transforms, c: compiled model (with g), o: old pool
         workers:str='8,D,Dg',
         # also: run, graph-pool, profile-pool, check-pool, graph-compile, tfms-graph, check-tfms, check-compile
         stages:str='model,graph,profile,tfms,loader,learner,split,check,syncs,baselines,compile',
         budget_s:float=420.,     # skip the stages not started after this many seconds
         run_epochs:str='5',      # epochs of each `run` row, comma-separated (several: per-epoch cost from the slope)
         run_workers:str=None,    # loaders of the run stage (default: --workers)
         run_valid_every:int=1,   # the run stage validates after every this many epochs (speed.ValidEvery)
         check_iters:str='40',    # training iterations of each check / check-compile row, comma-separated
         # rows of the model stage, comma-separated (model, model-fp32, model-foreach, model-slice, model-pool, big)
         model_variants:str=None): # default: all
    t_start = time.perf_counter()
    global N_GALAXIES
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    n, warmup = (3, 1) if quick else (200, 20)
    N_GALAXIES = QUICK_GALAXIES if quick else TILED_GALAXIES
    bs, big = (8, (16,)) if quick else (PAPER_BS, (512, 2048))
    ws = workers.split(',')
    info = dict(torch=torch.__version__, device=torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu',
                cpus=os.cpu_count(), n_iters=n, warmup=warmup)
    print(json.dumps(info), flush=True)
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True
    runs = dict(model=lambda: stage_model(dev, n, warmup, bs, big, model_variants and model_variants.split(',')),
                graph=lambda: stage_graph(dev, n, warmup, bs),
                **{'graph-pool': lambda: stage_graph(dev, n, warmup, bs, 'pool'),
                   'profile-pool': lambda: stage_profile(dev, bs, shortcut='pool'),
                   'check-pool': lambda: stage_check(dev, n_mock, bs, spec='Do')},
                compile=lambda: stage_compile(dev, n, warmup, bs),
                **{'graph-compile': lambda: stage_graph(dev, n, warmup, bs, compile=True),
                   'tfms-graph': lambda: stage_tfms(dev, n, warmup, n_mock, bs, graphed=True),
                   'check-tfms': lambda: stage_check_tfms(dev, n_mock, bs),
                   'check-compile': lambda: [r for i in check_iters.split(',')
                                             for r in stage_check(dev, n_mock, bs, int(i), compile=True)]},
                baselines=lambda: stage_baselines(dev, max(n // 4, 2), max(warmup // 2, 1), bs),
                tfms=lambda: stage_tfms(dev, n, warmup, n_mock, bs),
                loader=lambda: stage_loader(dev, n, warmup, n_mock, ws, bs),
                learner=lambda: stage_learner(dev, n, warmup, n_mock, ws, bs),
                split=lambda: stage_split(dev, n, warmup, n_mock, ws, bs),
                check=lambda: [r for i in check_iters.split(',') for r in stage_check(dev, n_mock, bs, int(i))],
                profile=lambda: stage_profile(dev, bs),
                hostprof=lambda: stage_hostprof(dev, n, warmup, n_mock, ws, bs),
                run=lambda: [r for e in run_epochs.split(',')
                             for r in stage_run(dev, n_mock, run_workers.split(',') if run_workers else ws, bs, int(e),
                                                run_valid_every)],
                syncs=lambda: stage_syncs(dev, n_mock, [w for w in ws if w.startswith('D')] or ws[:1], bs))
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
    cols = ['stage', 'images_per_s', 'ms_per_iter_128', 'projected_72k_min', 'wait_ms', 'step_ms', 'stage_s', 'note',
            'error']
    print(json.dumps(info))
    print(pd.DataFrame(rows).reindex(columns=cols).to_string(index=False, max_colwidth=60))
    failed = [r['stage'] for r in rows if 'error' in r]
    if failed: sys.exit(f'failed stages: {", ".join(failed)}')
