#!/usr/bin/env python3
"""The examples' command lines (a `meson test` entry): --help describes and
exits 0, unknown arguments, unwritable output paths, bad numbers and bad
data are rejected before any work (nothing trained, nothing written, no
--out folder), and running out of memory is an error message, not a crash.

    check_cli.py <directory of the example executables>
"""
import gzip
import os
import resource
import struct
import subprocess
import sys
import tempfile

bin_dir = os.path.abspath(sys.argv[1])
# Set by meson: under ASan or TSan the shadow memory's reservation exceeds any
# address-space cap, so the capped case is skipped (and said so) there.
sanitized = os.environ.get("XGRAD_SANITIZE", "none") not in ("", "none")
failures = []


def write_idx(path, extents, values, type_code=0x08):
    """An IDX file (gzip-compressed when the name ends in .gz); `values` is
    bytes for the byte type, else a list packed big-endian."""
    head = bytes([0, 0, type_code, len(extents)]) + b"".join(struct.pack(">I", e) for e in extents)
    if not isinstance(values, bytes):
        values = struct.pack(">%d%s" % (len(values), {0x0D: "f", 0x0C: "i"}[type_code]), *values)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(head + values)


def mnist_folder(root, name, train=(4, 28, 28), test=(2, 28, 28), train_labels=None,
                 test_labels=None, train_images=None):
    """A folder of the four MNIST-format files: zero images, labels 0, 1, ...
    unless given."""
    folder = os.path.join(root, name)
    os.mkdir(folder)
    for split, shape, labels, images in (("train", train, train_labels, train_images),
                                         ("t10k", test, test_labels, None)):
        n = shape[0]
        size = 1
        for e in shape:
            size *= e
        write_idx(os.path.join(folder, split + "-images-idx3-ubyte.gz"), list(shape),
                  images if images is not None else bytes(size))
        write_idx(os.path.join(folder, split + "-labels-idx1-ubyte.gz"), [n],
                  bytes(labels if labels is not None else [i % 10 for i in range(n)]))
    return folder


def limit_memory(megabytes):
    """A preexec_fn: the child's address space capped, as on a small machine."""
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    return apply


with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as data:
    missing = os.path.join(tmp, "missing")
    # 100,000 zero images: 78 MB of bytes in 340 KB, 314 MB as float.
    # 627 MB of float values under a 512 MB cap. (Under 256 MB, with oneDNN
    # loaded, OpenBLAS's worker thread could not get its 128 MB buffer, retried
    # forever, and the exit waited for it: a hang in 1 run of 4.)
    big = mnist_folder(data, "big", train=(200000, 28, 28), train_labels=bytes(200000))
    # Valid IDX files that the experiment cannot use: refused before any work,
    # naming the file and the problem, and no --out folder is left behind.
    labels_12 = mnist_folder(data, "labels12", train_labels=bytes([0, 1, 12, 3]))
    images_32 = mnist_folder(data, "images32", train=(4, 32, 32), test=(2, 32, 32))
    nan_pixels = mnist_folder(data, "nan")
    write_idx(os.path.join(nan_pixels, "train-images-idx3-ubyte.gz"), [4, 28, 28],
              [0.0] * 784 + [float("nan")] + [0.0] * (3 * 784 - 1), type_code=0x0D)
    no_train = mnist_folder(data, "notrain", train=(0, 28, 28))
    no_test = mnist_folder(data, "notest", test=(0, 28, 28))
    out = ["--out", "out"]
    # (program, arguments, exit status 0?, text expected in the output[, preexec_fn])
    cases = [
        ("apot_experiment", ["--lr", "nan"], False, "--lr: Value nan is not a finite number > 0"),
        ("apot_experiment", ["--qat-lr", "inf"], False, "--qat-lr: Value inf is not a finite"),
        ("apot_experiment", ["--lr", "-1"], False, "--lr: Value -1 is not a finite number > 0"),
        ("apot_experiment", ["--apot-weight-init", "biggest"], False, "--apot-weight-init"),
        ("apot_experiment", ["--apot-weight-per-channel", "maybe"], False,
         "--apot-weight-per-channel"),
        ("apot_experiment", ["--data", labels_12] + out, False,
         "train-labels-idx1-ubyte.gz\": training row 2 has label 12, but the net has 10 classes"),
        ("apot_experiment", ["--data", images_32] + out, False,
         "train-images-idx3-ubyte.gz\": training rows of 1024 values (32x32), but the net takes "
         "784 (28x28 images)"),
        ("apot_experiment", ["--data", nan_pixels] + out, False,
         "train-images-idx3-ubyte.gz\": training row 1 holds nan at position 0"),
        ("apot_experiment", ["--data", no_train] + out, False,
         "train-images-idx3-ubyte.gz\": no training rows"),
        ("apot_experiment", ["--data", no_test] + out, False,
         "t10k-images-idx3-ubyte.gz\": no test rows"),
        ("train_mlp", ["--help"], True, "checkpoint"),
        ("train_mlp", ["--bogus"], False, "not expected: --bogus"),
        ("train_mlp", ["a.npz", "b.npz"], False, "not expected"),
        ("train_mlp", [os.path.join(missing, "x.npz")], False, "does not exist"),
        ("train_mlp", [tmp], False, "is a directory"),
        ("qat_apot", ["--help"], True, "--seeds"),
        ("qat_apot", ["--seeds", "0"], False, "not in range"),
        ("qat_apot", ["--seeds", "abc"], False, "--seeds"),
        ("engine_demo", ["--help"], True, "hand-written SGD"),
        ("engine_demo", ["extra"], False, "not expected: extra"),
        ("visualize_levels", ["--help"], True, "directory"),
        ("visualize_levels", [missing], False, "does not exist"),
        ("apot_inference", ["--help"], True, "--qat-steps"),
        ("apot_inference", ["--bits", "5"], False, "--bits"),
        ("apot_inference", [missing], False, "does not exist"),
        ("apot_inference", ["--checkpoint", os.path.join(missing, "w.npz")], False,
         "--checkpoint"),
        ("apot_inference", ["--repeats", "0"], False, "not in range"),
        ("export_onnx", ["--help"], True, "--checkpoint"),
        ("export_onnx", [os.path.join(missing, "m.onnx")], False, "does not exist"),
        ("export_onnx", ["--opset", "12"], False, "--opset"),
        ("export_onnx", ["--checkpoint", os.path.join(missing, "w.npz")], False, "--checkpoint"),
        # A training set too large for the memory left: a message, exit 1.
        ("apot_experiment", ["--data", big, "--out", "out"], False,
         "cannot allocate 627200000 bytes", limit_memory(512)),
    ]
    for program, args, ok, expected, *preexec in cases:
        what = " ".join([program] + args)
        if preexec and sanitized:
            print(f"skipped under the sanitizer ({os.environ['XGRAD_SANITIZE']}): {what}")
            continue
        run = subprocess.run([os.path.join(bin_dir, program)] + args, cwd=tmp,
                             capture_output=True, text=True, timeout=120,
                             preexec_fn=preexec[0] if preexec else None)
        output = run.stdout + run.stderr
        if run.returncode < 0:
            failures.append(f"{what}: killed by signal {-run.returncode}: {output[-300:]!r}")
        elif (run.returncode == 0) != ok:
            failures.append(f"{what}: exit status {run.returncode}")
        if expected not in output:
            failures.append(f"{what}: output lacks {expected!r}: {output!r}")
        if not ok and ("epoch" in run.stdout or "seed " in run.stdout or "trained" in run.stdout):
            failures.append(f"{what}: worked before rejecting its arguments")
    if os.listdir(tmp) != []:
        failures.append(f"files were written: {os.listdir(tmp)}")

for f in failures:
    print("FAIL", f)
print(f"{len(cases)} cases, {len(failures)} failures")
sys.exit(1 if failures else 0)
