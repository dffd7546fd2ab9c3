"""Data-parallel training under torchrun: two CPU processes, gloo, a tiny GAN, a few steps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.slow
def test_two_process_ddp(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [torchrun, "--standalone", "--nnodes", "1", "--nproc-per-node", "2", str(HERE / "ddp_worker.py"), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rep in reports:
        assert rep["world"] == 2
        for name in ("bce", "wgan-gp"):
            assert rep[name]["same_on_all_ranks"], f"{name}: replicas diverged on rank {rep['rank']}"
            assert rep[name]["changed"]
            assert len(rep[name]["losses"]) == 4
    # ranks see different data shards, so their local losses differ
    assert reports[0]["bce"]["losses"][0]["loss_d"] != reports[1]["bce"]["losses"][0]["loss_d"]
    # only rank 0 writes checkpoints and logs
    assert (tmp_path / "bce" / "checkpoint.pt").exists()
    assert len((tmp_path / "bce" / "log.jsonl").read_text().splitlines()) == 4
