"""Whole-process derivation time and written size of the scaling families.

Each family at depth k, run as `matcalc derive … --format F` (the whole
process: parse, derive, simplify, write) for F in text, expr and numpy:
the best wall time of a few runs and the bytes written. The families are
those of benches/derive.rs:

- (a) norm2(W_k*tanh(W_{k-1}*…tanh(W_1*x)) - y)^2 by W_1 (a tanh net);
- (b) tr(A_1*X*A_2*X*…*A_k*X) by X (a trace chain);
- (c) the Hessian of x'*A_1*…*A_k*x by x.

    cargo build --release
    python3 benches/scaling.py [--matcalc target/release/matcalc] [--depths 32,1024]
"""

import argparse
import subprocess
import time


def family(name, k):
    """Expression, declarations, variable and order of family `name` at depth k."""
    if name == "a":
        inner = "x"
        for i in range(1, k):
            inner = f"tanh(W{i}*{inner})"
        decls = ", ".join(f"W{i}: n x n" for i in range(1, k + 1)) + ", x: n, y: n"
        return f"norm2(W{k}*{inner} - y)^2", decls, "W1", 1
    if name == "b":
        expr = "tr(" + "*".join(f"A{i}*X" for i in range(1, k + 1)) + ")"
        decls = ", ".join(f"A{i}: n x n" for i in range(1, k + 1)) + ", X: n x n"
        return expr, decls, "X", 1
    expr = "x'*" + "*".join(f"A{i}" for i in range(1, k + 1)) + "*x"
    decls = ", ".join(f"A{i}: n x n" for i in range(1, k + 1)) + ", x: n"
    return expr, decls, "x", 2


def run(matcalc, name, k, fmt, repeats):
    """Best wall time (ms) and output bytes of one derivation."""
    expr, decls, wrt, order = family(name, k)
    cmd = [matcalc, "derive", expr, "--let", decls, "--wrt", wrt, "--order", str(order),
           "--format", fmt]
    best, size = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
        size = len(out.stdout)
    return 1000.0 * best, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matcalc", default="target/release/matcalc")
    parser.add_argument("--depths", default="32,128,512,1024")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    formats = ["text", "expr", "numpy"]
    head = " | ".join(f"{f} ms | {f} bytes" for f in formats)
    print(f"| family | k | {head} |")
    print("| --- | --- |" + " --- |" * (2 * len(formats)))
    for name in "abc":
        for k in [int(d) for d in args.depths.split(",")]:
            cells = []
            for fmt in formats:
                ms, size = run(args.matcalc, name, k, fmt, args.repeats)
                cells.append(f"{ms:.1f} | {size}")
            print(f"| {name} | {k} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
