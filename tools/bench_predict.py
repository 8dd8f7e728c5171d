"""Prediction speed of the exported model over the survey sample, one process and on Dask (13_scaling).

Figures, printed as Markdown tables, each with the 1-minute load average when it was taken (the machine may be shared):
- the JPEG decode rate of one core (`read_centre`, and at half size with PIL's `draft`);
- images/s of one process (the exported model in a plain loop, and today's `predict_images`) and of a Dask
  `LocalCluster` of `--workers` single-threaded processes, with PyTorch (`model.pt2`) and onnxruntime (`model.onnx`),
  with and without the eight views;
- the agreement of predictions from JPEGs decoded at reduced size with those from the full decode, on labelled images;
- projections, from the measured rate of one worker, for 10^8 (DESI Legacy Surveys) and 2×10^10 (LSST) galaxies.

    .venv/bin/python tools/bench_predict.py --runs RUN[,RUN...] [--images DIR] [--n 6250] [--n-views 1000]

`--runs`: trained run folders (their exports are written into them: give copies if they are not yours). `--models`
adds runs of 2 iterations on the mock galaxies for networks without a trained run: random weights, speed only.
"""
import argparse, json, os, shutil, sys, tempfile, time, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
import numpy as np  # noqa: E402

from PIL import Image  # noqa: E402

from galaxy_fastai.images import CACHE_SIDE, read_centre  # noqa: E402
from galaxy_fastai.runs import predict_images, read_run_info, train_run  # noqa: E402
from galaxy_fastai.scaling import dask_client, export_for, load_exported, predict_rows, run_partitions  # noqa: E402
from galaxy_fastai.selection import gz2_subset  # noqa: E402

SURVEYS = {'DESI Legacy Surveys': 1e8, 'LSST': 2e10}


def load(): return round(os.getloadavg()[0], 2)


def draft_centre(path, reduce=2, side=CACHE_SIDE):
    "`read_centre`'s crop from the JPEG decoded at 1/`reduce` of its size (PIL's `draft`), enlarged back to `side`."
    with Image.open(path) as im:
        im.draft('RGB', (im.width // reduce, im.height // reduce))
        (w, h), s = im.size, side // reduce
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        return np.asarray(im.crop(box).resize((side, side), Image.BILINEAR)).transpose(2, 0, 1).copy()


def decode(path, reduce=1): return read_centre(path) if reduce == 1 else draft_centre(path, reduce)


def decode_rate(files, reduce=1):
    "(images/s, images per CPU-second) of decoding `files` to 240×240 centres in this process (one core)."
    t, c = time.perf_counter(), time.process_time()
    for f in files: decode(f, reduce)
    return len(files) / (time.perf_counter() - t), len(files) / (time.process_time() - c)


def one_process(export, files, runtime, bs=8):
    "(images/s, images per CPU-second) of the exported model and the decoding in this process, one thread."
    f = load_exported(export, runtime)
    f(np.stack([read_centre(files[0])]))                      # loaded and warm
    t, c = time.perf_counter(), time.process_time()
    predict_rows(f, [Path(p).stem for p in files], files, ['c'] * 5, bs)
    return len(files) / (time.perf_counter() - t), len(files) / (time.process_time() - c)


def on_cluster(client, export, files, runtime, workers, tmp, bs=8):
    "(images/s, images per CPU-second of the workers) of `run_partitions` on a warm cluster (models loaded)."
    classes = json.loads((Path(export)/'export.json').read_text())['classes']
    size = max(16, min(256, len(files) // (workers * 8)))   # enough partitions to keep every worker busy to the end
    def specs(paths, tag):
        d = Path(tmp)/tag; d.mkdir(parents=True, exist_ok=True)
        return [dict(part=i, ids=[Path(p).stem for p in paths[s:s + size]], paths=paths[s:s + size],
                     out=str(d/f'part-{i:05d}.parquet'), export=str(export), runtime=runtime, bs=bs, reduce=1,
                     classes=classes) for i, s in enumerate(range(0, len(paths), size))]
    run_partitions(client, specs(files[:workers * 4], 'warm'))  # each worker loads the model
    t, c = time.perf_counter(), sum(client.run(time.process_time).values())
    run_partitions(client, specs(files, 'timed'))
    return len(files) / (time.perf_counter() - t), len(files) / (sum(client.run(time.process_time).values()) - c)


def agreement(export, files, reduce, runtime='onnx'):
    "Share of `files` whose predicted class is the same decoded at 1/`reduce` size as in full, and max |Δp|."
    f = load_exported(export, runtime)
    a, b = (np.concatenate([f(np.stack([decode(p, r) for p in files[s:s + 64]])) for s in range(0, len(files), 64)])
            for r in (1, reduce))
    return float((a.argmax(1) == b.argmax(1)).mean()), float(np.abs(a - b).max())


def mock_run(model, dest):
    "A run of `model` trained 2 iterations on the mock galaxies (random weights: for speed only)."
    train_run(model=model, data='mock', recipe='improved', max_iters=2, bs=8, bars=False, threads=1, out=dest,
              overwrite=True)
    return Path(dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', default='', help='trained run folders, comma separated')
    ap.add_argument('--models', default='', help='networks measured with a 2-iteration mock run (speed only)')
    ap.add_argument('--images', default=None, help='folder of JPEGs (default: the subset\'s survey_sample)')
    ap.add_argument('--n', type=int, default=6250, help='images for the runs without views')
    ap.add_argument('--n-views', type=int, default=1000, help='images for the runs with the eight views')
    ap.add_argument('--n-labelled', type=int, default=1000, help='labelled images for the reduced-decode agreement')
    ap.add_argument('--workers', type=int, default=2, help='worker processes of the LocalCluster')
    ap.add_argument('--runtimes', default='onnx,torch')
    ap.add_argument('--bs', type=int, default=8, help='images a worker classifies at once (CLUSTER_BS)')
    ap.add_argument('--fastai', type=int, default=500, help='images for predict_images (fastai pipeline), 0 skips')
    a = ap.parse_args()
    subset = gz2_subset()
    if subset is None and a.images is None: sys.exit('no --images and no shared gz2-kaggle-subset (GZ2_SUBSET)')
    files = sorted(str(p) for p in Path(a.images or subset/'survey_sample').glob('*.jpg'))
    labelled = sorted(str(p) for p in (subset/'images_training_rev1').glob('*.jpg'))[:a.n_labelled] if subset else []
    tmp = Path(tempfile.mkdtemp(prefix='bench_predict_'))
    runs = [Path(r) for r in a.runs.split(',') if r] + [mock_run(m, tmp/f'mock_{m}') for m in a.models.split(',') if m]
    print(f'{len(files)} survey images, {os.cpu_count()} cores, load {load()}', flush=True)

    dec = {r: (*decode_rate(files[:1000], r), load()) for r in (1, 2)}
    print('\n| decode, one core | img/s | img per CPU-s | load |\n|---|---:|---:|---:|')
    for r, (v, c, ld) in dec.items():
        print(f"| {'full' if r == 1 else f'1/{r} size (draft)'} | {v:.0f} | {c:.0f} | {ld} |")

    rows = []
    with dask_client(f'local:{a.workers}') as client:
        for run in runs:
            model = read_run_info(run)['model']
            for tta in (False, True):
                ex, n = export_for(run, tta=tta), (a.n_views if tta else a.n)
                for rt in a.runtimes.split(','):
                    one = (*one_process(ex, files[:n], rt, a.bs), load())
                    dist = (*on_cluster(client, ex, files[:n], rt, a.workers, tmp/'parts', a.bs), load())
                    rows.append(dict(model=model, views=8 if tta else 1, runtime=rt, images=n, one=one, dist=dist))
                    print(f'{model} views={8 if tta else 1} {rt}: one process {one[0]:.1f} img/s, local:{a.workers} '
                          f'{dist[0]:.1f} img/s ({dist[0] / one[0]:.2f}x), per CPU-s {one[1]:.1f} and {dist[1]:.1f}, '
                          f'load {dist[2]}', flush=True)
            if a.fastai:
                t = time.perf_counter()
                predict_images(run, files[:a.fastai], tmp/'fastai.csv', bars=False, device='cpu')
                rows.append(dict(model=model, views=8 if read_run_info(run).get('tta') else 1, runtime='fastai',
                                 images=a.fastai, one=(a.fastai / (time.perf_counter() - t), None, load()), dist=None))

    w = a.workers
    print(f'\n| model | views | runtime | images | one process img/s (load) | local:{w} img/s (load) | speed-up | '
          f'img per CPU-s, one / local:{w} | local:{w} on {w} free cores | one process / decode, per CPU-s |\n'
          '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|')
    for r in rows:
        o, d = r['one'], r['dist']
        dd = (f"{d[0]:.1f} ({d[2]}) | {d[0] / o[0]:.2f}x | {o[1]:.1f} / {d[1]:.1f} | {w * d[1] / o[1]:.2f}x"
              if d else '– | – | – | –')
        ratio = f'{o[1] / dec[1][1]:.2f}' if o[1] else f'{o[0] / dec[1][0]:.2f} (wall)'
        print(f"| {r['model']} | {r['views']} | {r['runtime']} | {r['images']} | {o[0]:.1f} ({o[2]}) | {dd} | "
              f"{ratio} |")

    print('\n| reduced decode (draft) | model | views | same class | max abs dp | images | load |\n'
          '|---|---|---:|---:|---:|---:|---:|')
    for run in runs[:1] if labelled else []:
        for tta in (False, True):
            for r in (2, 4):
                same, dp = agreement(export_for(run, tta=tta), labelled, r)
                print(f"| 1/{r} | {read_run_info(run)['model']} | {8 if tta else 1} | {same:.4f} | {dp:.3f} | "
                      f"{len(labelled)} | {load()} |", flush=True)

    print('\nProjections from the images per CPU-second of one process: a worker with a core of its own.')
    print('\n| survey | galaxies | model, views, runtime | img/s a worker | core-hours | workers for 1 day | '
          'days on 100 workers |\n|---|---:|---|---:|---:|---:|---:|')
    for r in rows:
        if r['runtime'] == 'fastai': continue
        rate = r['one'][1]
        for name, n in SURVEYS.items():
            print(f"| {name} | {n:.0e} | {r['model']}, {r['views']}, {r['runtime']} | {rate:.1f} | "
                  f"{n / rate / 3600:.3g} | {n / rate / 86400:.3g} | {n / rate / 100 / 86400:.3g} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
