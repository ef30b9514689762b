#!/usr/bin/env python3
"""The examples' command lines (a `meson test` entry): --help describes and
exits 0, unknown arguments and unwritable output paths are rejected before
any work (nothing trained, nothing written).

    check_cli.py <directory of the example executables>
"""
import os
import subprocess
import sys
import tempfile

bin_dir = os.path.abspath(sys.argv[1])
failures = []

with tempfile.TemporaryDirectory() as tmp:
    missing = os.path.join(tmp, "missing")
    # (program, arguments, exit status 0?, text expected in the output)
    cases = [
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
    ]
    for program, args, ok, expected in cases:
        what = " ".join([program] + args)
        run = subprocess.run([os.path.join(bin_dir, program)] + args, cwd=tmp,
                             capture_output=True, text=True, timeout=120)
        output = run.stdout + run.stderr
        if (run.returncode == 0) != ok:
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
