"""PyTorch side of `npm run bench`: runs shared/reference/torch_bench.py's bench()
for one model in this process and adds the process's peak RSS and the training
throughput per CPU-second, so both sides report the same fields. Usage: torch_side.py MODEL BATCH STEPS THREADS"""
import json
import os
import resource
import sys

here = os.path.dirname(os.path.abspath(__file__))
ref = os.path.normpath(os.path.join(here, "..", "..", "shared", "reference"))
if not os.path.isdir(ref):
    sys.exit(f"torch_side.py: {ref} not found (shared/reference must sit beside the repository)")
sys.path.insert(0, ref)
import time  # noqa: E402
import torch_bench  # noqa: E402


class _Clock:
    """Stands in for torch_bench's `time` module: its perf_counter() returns process CPU
    time (all threads), so bench() reports samples per CPU-second, and it records the wall
    clock at each call, from which the wall-time throughputs are computed here. This keeps
    the training loop itself the one in shared/reference/torch_bench.py, unchanged."""

    def __init__(self):
        self.wall = []

    def perf_counter(self):
        self.wall.append(time.perf_counter())
        return time.process_time()


model, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
clock = _Clock()
torch_bench.time = clock
cpu = torch_bench.bench(model, batch, steps, threads)
if len(clock.wall) != 4:
    sys.exit(f"torch_side.py: expected torch_bench.bench to read the clock 4 times, got {len(clock.wall)}")
w = clock.wall
r = dict(cpu)
r["train_cpu_samples_per_s"] = cpu["train_samples_per_s"]
r["train_samples_per_s"] = round(batch * steps / (w[1] - w[0]), 1)
r["infer_samples_per_s"] = round(batch * steps / (w[3] - w[2]), 1)
r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
import torch  # noqa: E402
r["torch"] = torch.__version__
print(json.dumps(r), flush=True)
