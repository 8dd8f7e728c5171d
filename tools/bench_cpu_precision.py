"""Training steps per second on the CPU in fp32 and in bf16 autocast (`07_train.CPUMixedPrecision`), through fastai.

For each registered network, `schedule_learner` trains `--steps` steps of `--bs` random 3×64×64 images twice: fp32
channels_last (what every CPU recipe does by default) and `fast=True` (channels_last + bf16 autocast, what a recipe
with `cpu_precision='bf16'` does). The first `--warmup` steps are not timed. Prints seconds a step and the speed-up,
and whether this CPU computes bf16 in hardware (`cpu_has_bf16`): without it, bf16 is emulated and slower.

    .venv/bin/python tools/bench_cpu_precision.py --models compact_cnn,compact_cnn_deep --threads 2
"""
import argparse, os, time, warnings

warnings.filterwarnings('ignore')
import torch  # noqa: E402
from fastai.basics import Callback, DataLoaders  # noqa: E402
from fastai.data.load import DataLoader  # noqa: E402

from galaxy_fastai.models import get_model  # noqa: E402
from galaxy_fastai.train import cpu_has_bf16, fit_schedule, get_config, schedule_learner  # noqa: E402


class StepTimes(Callback):
    "Wall-clock seconds of every training step, from `before_batch` to `after_step`."
    def before_fit(self): self.times = []
    def before_batch(self): self.t0 = time.perf_counter()
    def after_step(self): self.times.append(time.perf_counter() - self.t0)


def random_dls(bs:int, n_batches:int) -> DataLoaders:
    "Loaders of `n_batches` batches of random images with five classes (no augmentation: the step alone is timed)."
    g = torch.Generator().manual_seed(0)
    items = [(torch.randn(3, 64, 64, generator=g), torch.tensor(i % 5)) for i in range(bs * n_batches)]
    return DataLoaders(DataLoader(items, bs=bs, shuffle=True, drop_last=True), DataLoader(items[:bs], bs=bs))


def seconds_a_step(model:str, fast:bool, bs:int, steps:int, warmup:int) -> float:
    "Median seconds of a training step of `model` after `warmup` steps."
    torch.manual_seed(0)
    dls = random_dls(bs, steps + warmup)
    sched = get_config('tiny', max_iters=steps + warmup, bs=bs, milestones=())
    learn = schedule_learner(dls, get_model(model), sched, fast=fast)
    timer = StepTimes()
    with learn.no_bar(), learn.no_logging(): fit_schedule(learn, sched, cbs=[timer])
    t = sorted(timer.times[warmup:])
    return t[len(t) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', default='compact_cnn,compact_cnn_deep', help='registered networks, comma separated')
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--steps', type=int, default=12, help='timed steps per network and precision')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s own)')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    print(f'CPU bf16 in hardware: {cpu_has_bf16()}; {torch.get_num_threads()} torch threads; '
          f'load {os.getloadavg()[0]:.2f}')
    for m in a.models.split(','):
        fp32 = seconds_a_step(m, False, a.bs, a.steps, a.warmup)
        bf16 = seconds_a_step(m, True, a.bs, a.steps, a.warmup)
        print(f'{m}: fp32 {fp32:.3f} s a step, bf16 {bf16:.3f} s a step of {a.bs} ({fp32 / bf16:.2f}× faster)',
              flush=True)


if __name__ == '__main__': main()
