"""Smoke tests of the benchmark scripts in tools/: they must keep running against the library.

`tools/gpu_bench.py` is meant for a CUDA machine; here its `--quick` mode runs the data stages on
the CPU (the model stages need minutes of CPU time in `--quick` too, and are run where a GPU is lent).
"""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_bench_quick_data_stages(tmp_path):
    env = {**os.environ, 'GALAXY_FASTAI_HOME': str(tmp_path/'home'), 'PYTHONUNBUFFERED': '1'}
    cmd = [sys.executable, str(ROOT/'tools'/'gpu_bench.py'), '--quick', '--n-mock', '80', '--workers', '0',
           '--stages', 'tfms,loader', '--out', str(tmp_path/'out')]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rows = json.loads((tmp_path/'out'/'gpu_bench.json').read_text())['rows']
    assert [x['stage'] for x in rows] == ['tfms', 'loader 0w', 'items 0w']
    assert all('error' not in x and x['images_per_s'] > 0 for x in rows), rows
    # 72k iterations of 128 images at the measured rate, in minutes
    projected = rows[0]['projected_72k_min']
    assert abs(projected - 72_000 * 128 / rows[0]['images_per_s'] / 60) < 0.1 + 1e-3 * projected


def test_gpu_bench_specs_and_shortcuts():
    "The loader specs parse as documented, and the patched-in shortcuts compute what the library's does."
    import copy, torch
    sys.path.insert(0, str(ROOT/'tools'))
    import gpu_bench as g
    from galaxy_fastai.resnet import GalaxyResNet
    from galaxy_fastai.speed import CudaGraphModel, CudaGraphTfms, PrefetchBatches
    assert g.worker_spec('Dgo') == dict(workers=0, pin=None, prefetch=False, device_source=True, graph=True,
                                        graph_tfms=False, compile=False, shortcut='pool')
    assert g.worker_spec('8pf') == dict(workers=8, pin=True, prefetch=True, device_source=False, graph=False,
                                        graph_tfms=False, compile=False, shortcut='library')
    assert g.worker_spec('Dgtc') == dict(workers=0, pin=None, prefetch=False, device_source=True, graph=True,
                                         graph_tfms=True, compile=True, shortcut='library')
    cbs = g.spec_cbs('Dgtc')
    assert [type(c) for c in cbs] == [CudaGraphModel, CudaGraphTfms] and cbs[0].compile   # galaxy_fastai.speed's
    assert [type(c) for c in g.spec_cbs('8f')] == [PrefetchBatches] and g.spec_cbs('8') == []
    assert g.subsample_matches_pool(torch.device('cpu'))
    torch.manual_seed(0)
    lib = GalaxyResNet(p_drop=0.).to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    grads = []
    for kind in ('library', 'pool', 'slice'):
        m = g.with_shortcut(copy.deepcopy(lib), kind)
        m(x).sum().backward()
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
    assert all(torch.allclose(grads[0], other, rtol=1e-4, atol=1e-5) for other in grads[1:])


def test_bench_tfms_runs_and_counts():
    "tools/bench_tfms.py times both sides and finds the transforms computing on plain tensors (few fastai dispatches)."
    import re
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'bench_tfms.py'), '--bs', '2', '--reps', '1'], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    counts = [int(n) for n in re.findall(r'(\d+) fastai-dispatched ops', r.stdout)]
    assert len(counts) == 2 and all(n <= 10 for n in counts), r.stdout


def test_bench_views_on_a_mock_run(tmp_path):
    "tools/bench_views.py reproduces a benchmark run's saved probabilities, then scores the extra view sets on it."
    from galaxy_fastai.benchmark import run_case
    from galaxy_fastai.mock import mock_data
    from galaxy_fastai.selection import make_split
    root = mock_data(n=60, seed=3)
    manifest = make_split(root, tmp_path/'split.csv')
    res = run_case(root, manifest, 'compact_cnn', 'improved', 16, tmp_path/'runs', bs=8)
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'bench_views.py'), str(tmp_path/'runs'/res['run'])],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    right = json.loads(r.stdout.strip().splitlines()[-1])
    assert list(right) == ['8 views x 4 Q', '8 views x 8 Q (170-240)', '8 views x 4 Q x 5 windows']
    assert right['8 views x 4 Q'] == round(res['accuracy'] * res['n_test'] / 100)


def test_bench_distill_on_mock_runs(tmp_path):
    "tools/bench_distill.py trains a student on two teachers' probabilities: never a test galaxy, and not a plain run."
    import pandas as pd, re, torch
    from galaxy_fastai.baselines import compact_cnn
    from galaxy_fastai.benchmark import run_case
    from galaxy_fastai.mock import mock_data
    from galaxy_fastai.models import MODELS, register_model
    from galaxy_fastai.selection import make_split, read_manifest
    root = mock_data(n=60, seed=3)
    manifest = make_split(root, tmp_path/'split.csv')
    runs = tmp_path/'runs'
    register_model('deep_variant', compact_cnn, 'a teacher the library does not register', depth=2)
    try: teachers = [runs/run_case(root, manifest, m, 'best', 16, runs, bs=8)['run']
                     for m in ('compact_cnn', 'deep_variant')]
    finally: del MODELS['deep_variant']
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'bench_distill.py'), *map(str, teachers), '--model',
                        'compact_cnn', '--images', '16', '--bs', '8', '--register', 'deep_variant=compact_cnn:depth=2'],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    # 2 steps of 8 classified galaxies and the 4 unclassified ones vote regression appends to each
    assert re.search(r'compact_cnn-best-16-distill\S*: \d+ of \d+ right.*, 24 galaxy-steps distilled', r.stdout), \
        r.stdout
    m = read_manifest(manifest)
    targets = set(pd.read_csv(runs/f'teach_{teachers[0].name}.csv').GalaxyID)
    assert set(m.GalaxyID[m.split == 'train']) <= targets and not targets & set(m.GalaxyID[m.split == 'test'])
    student = next(runs.glob('compact_cnn-best-16-distill*'))
    plain, distilled = torch.load(teachers[0]/'model.pth'), torch.load(student/'model.pth')
    assert any(not torch.equal(plain[k], distilled[k]) for k in plain)   # same seed and steps, another loss


def test_bench_cpu_precision_prints_both_precisions():
    "tools/bench_cpu_precision.py trains a network through fastai in fp32 and in bf16 and prints both step times."
    import re
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'bench_cpu_precision.py'), '--models', 'simple_cnn',
                        '--bs', '8', '--steps', '2', '--warmup', '1', '--threads', '1'], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'CPU bf16 in hardware:' in r.stdout
    assert re.search(r'simple_cnn: fp32 \d+\.\d+ s a step, bf16 \d+\.\d+ s a step of 8', r.stdout), r.stdout
