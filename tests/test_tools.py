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
    assert abs(rows[0]['projected_72k_min'] - 72_000 * 128 / rows[0]['images_per_s'] / 60) < 0.1 + 1e-3 * rows[0]['projected_72k_min']
