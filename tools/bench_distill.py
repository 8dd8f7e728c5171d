"""Distil an ensemble of trained runs into one network (15_benchmark's cross-validation folds, or any benchmark runs).

The teachers are run folders trained on the same split (their `run.json` names the data and the manifest). Their
class probabilities, averaged over the teachers and over the eight dihedral views at Q = 220, are computed on the
split's training galaxies and, when the recipe regresses votes, on the unclassified galaxies that vote regression
appends to each batch (no class loss has seen those). The student is trained by the recipe with, added to its loss,
`alpha` × the cross-entropy of its class outputs against those probabilities on every galaxy of the step; then it is
evaluated as any benchmark run (`run_case`), in the teachers' parent folder, tagged 'distill'. No test galaxy is ever
a target: the tool refuses one.

    .venv/bin/python tools/bench_distill.py "$GALAXY_OUTPUTS"/cv10/fold0/{compact_cnn_deep-best-86016,…}
"""
import argparse, ast, os, time, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from fastai.callback.core import Callback  # noqa: E402

from galaxy_fastai.benchmark import run_case  # noqa: E402
from galaxy_fastai.data import AUTHORS_TEST_SCALE  # noqa: E402
from galaxy_fastai.models import model_spec, register_model  # noqa: E402
from galaxy_fastai.recipes import VoteRegression, get_recipe, unclassified_ids  # noqa: E402
from galaxy_fastai.runs import predict_images, read_run_info  # noqa: E402
from galaxy_fastai.selection import IMAGES_FOLDER, read_manifest, read_solutions, solutions_csv  # noqa: E402


class Distill(Callback):
    "Add `alpha` × the cross-entropy of the class outputs against `targets` (GalaxyID → probabilities) on each step."
    order = 0   # before VoteRegression's after_pred cuts the appended galaxies' outputs off
    def __init__(self, targets: pd.DataFrame, alpha: float = 1.):
        self.targets, self.alpha, self.seen = targets, alpha, 0

    def before_fit(self):
        vrs = [c for c in self.learn.cbs if isinstance(c, VoteRegression)]
        self.vr = vrs[0] if vrs else None

    def before_batch(self):
        if not self.training: return
        ids = [int(g) for g in self.dl.batch_items(self.iter)]
        if self.vr is not None:   # the galaxies VoteRegression appends at this step (`ExtraBatches.items` is pure)
            items = self.vr.extra_dl.dataset.items
            ids += [int(items[k]) for k in self.vr.stream.items(getattr(self.learn, 'iteration', self.train_iter))]
        missing = [g for g in ids if g not in self.targets.index]
        if missing: raise KeyError(f'{len(missing)} galaxies of the step have no teacher target, e.g. {missing[0]}')
        self.t = torch.tensor(self.targets.loc[ids].to_numpy(), dtype=torch.float32)

    def after_pred(self):
        if self.training: self.logits = self.pred[:, :len(self.dls.vocab)].float()

    def after_loss(self):
        if not self.training: return
        if len(self.logits) != len(self.t): raise RuntimeError(f'{len(self.logits)} outputs, {len(self.t)} targets')
        soft = -(self.t.to(self.logits.device) * F.log_softmax(self.logits, 1)).sum(1).mean()
        self.learn.loss_grad = self.loss_grad + self.alpha * soft
        self.learn.loss = self.learn.loss_grad.clone()
        self.seen += len(self.t)

    def after_fit(self): self.learn.remove_cb(self)


def register_variant(spec: str):
    "Register 'NAME=BASE:key=value,…': registered network BASE with its arguments changed (a teacher of the benchmark)."
    name, _, rest = spec.partition('=')
    base, _, args = rest.partition(':')
    if not name or not base: raise SystemExit(f'--register takes NAME=BASE:key=value,…, not {spec!r}')
    kw = {k: ast.literal_eval(v) for k, v in (a.split('=', 1) for a in args.split(',') if a)}
    b = model_spec(base)
    register_model(name, b.builder, f'{base} with {kw}', **{**b.kwargs, **kw})


def teacher_targets(teachers: list, ids: list, q: int = AUTHORS_TEST_SCALE) -> pd.DataFrame:
    "The teachers' class probabilities on galaxies `ids` (eight views at Q = `q`), averaged; cached beside each run."
    info = read_run_info(teachers[0])
    paths = [Path(info['data'])/IMAGES_FOLDER/f'{g}.jpg' for g in ids]
    ps = []
    for t in teachers:
        csv = t.parent/f'teach_{t.name}.csv'
        d = pd.read_csv(csv).set_index('GalaxyID') if csv.is_file() else None
        if d is None or not set(ids) <= set(d.index):
            predict_images(t, paths, out=csv, qs=(q,), bars=False)
            d = pd.read_csv(csv).set_index('GalaxyID')
        ps.append(d.loc[ids, [c for c in d.columns if c.startswith('p_')]].to_numpy())
    return pd.DataFrame(np.mean(ps, 0), index=pd.Index(ids, name='GalaxyID'))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('teachers', nargs='+', type=Path, help='run folders trained on the same split')
    p.add_argument('--model', default='compact_cnn_deep', help="the student's network")
    p.add_argument('--recipe', default='best', help="the student's recipe")
    p.add_argument('--images', type=int, default=86016, help='training images (steps × bs)')
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--alpha', type=float, default=1., help='weight of the distillation loss')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    p.add_argument('--register', action='append', default=[],
                   help="NAME=BASE:key=value,… for a teacher's network that the library does not register, "
                        "e.g. compact_cnn_deep3=compact_cnn:depth=3")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for spec in a.register: register_variant(spec)
    infos = [read_run_info(t) for t in a.teachers]
    if len({(i['data'], Path(i['manifest']).resolve()) for i in infos}) != 1:
        raise SystemExit('the teachers were not all trained on the same data and manifest')
    root, manifest = Path(infos[0]['data']), Path(infos[0]['manifest'])
    m = read_manifest(manifest)
    ids = m.GalaxyID[m.split == 'train'].astype(int).tolist()
    if get_recipe(a.recipe).vote_regression: ids += unclassified_ids(read_solutions(solutions_csv(root)))
    leak = set(ids) & set(m.GalaxyID[m.split == 'test'].astype(int))
    if leak: raise SystemExit(f'{len(leak)} test galaxies would be teacher targets, e.g. {min(leak)}')
    t0 = time.perf_counter()
    targets = teacher_targets(a.teachers, ids)
    print(f'teacher targets for {len(ids)} galaxies from {len(a.teachers)} runs in {time.perf_counter() - t0:.0f} s, '
          f'load {os.getloadavg()[0]:.1f}', flush=True)
    tag = 'distill' if a.alpha == 1 else f'distill{a.alpha:g}'
    d = Distill(targets, a.alpha)
    res = run_case(root, manifest, a.model, a.recipe, a.images, a.teachers[0].parent, bs=a.bs, tag=tag, cbs=[d])
    print(f"{res['run']}: {round(res['accuracy'] * res['n_test'] / 100)} of {res['n_test']} right, "
          f"train {res['train_s']} s, {d.seen} galaxy-steps distilled")


if __name__ == '__main__': main()
