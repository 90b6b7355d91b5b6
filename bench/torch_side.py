"""PyTorch side of `npm run bench`: runs shared/reference/torch_bench.py's bench()
for one model in this process and adds the process's peak RSS, so both sides
report the same fields. Usage: torch_side.py MODEL BATCH STEPS THREADS"""
import json
import os
import resource
import sys

here = os.path.dirname(os.path.abspath(__file__))
ref = os.path.normpath(os.path.join(here, "..", "..", "shared", "reference"))
if not os.path.isdir(ref):
    sys.exit(f"torch_side.py: {ref} not found (shared/reference must sit beside the repository)")
sys.path.insert(0, ref)
from torch_bench import bench  # noqa: E402

model, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = bench(model, batch, steps, threads)
r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
import torch  # noqa: E402
r["torch"] = torch.__version__
print(json.dumps(r), flush=True)
