"""Evaluation speed of matcalc's generated code against JAX autodiff (CPU).

For x'*A*x (by x), logistic regression sum(log(1 + exp(-y .* (X*w)))) (by w)
and matrix factorisation norm2(X - U*V')^2 (by U, rank 3), at n = 100 and
1000: the generated gradient and Hessian (`matcalc derive … --format jax`,
under jax.jit; and the NumPy module) against jax.value_and_grad and
jax.hessian of the same function written in jax.numpy, also jitted. Each
time is the best of several runs after a warm-up (compilation excluded).
The generated functions return the value too.

    cargo build --release
    .venv/bin/python benches/codegen_eval.py [--matcalc target/release/matcalc] [--sizes 100,1000]
"""

import argparse
import subprocess
import time
import types

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

RANK = 3

PROBLEMS = [
    {
        "name": "x'*A*x",
        "expr": "x'*A*x",
        "wrt": "x",
        "decls": lambda n: f"x: {n}, A: {n}x{n}",
        "jax": lambda v: v["x"] @ v["A"] @ v["x"],
        "inputs": lambda rng, n: {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n))},
    },
    {
        "name": "logistic regression",
        "expr": "sum(log(1 + exp(-y .* (X*w))))",
        "wrt": "w",
        "decls": lambda n: f"X: {n}x{n}, w: {n}, y: {n}",
        "jax": lambda v: jnp.sum(jnp.log(1 + jnp.exp(-v["y"] * (v["X"] @ v["w"])))),
        "inputs": lambda rng, n: {
            "X": rng.standard_normal((n, n)) / np.sqrt(n),
            "w": rng.standard_normal(n),
            "y": rng.choice([-1.0, 1.0], n),
        },
    },
    {
        "name": "matrix factorisation",
        "expr": "norm2(X - U*V')^2",
        "wrt": "U",
        "decls": lambda n: f"X: {n}x{n}, U: {n}x{RANK}, V: {n}x{RANK}",
        "jax": lambda v: jnp.sum((v["X"] - v["U"] @ v["V"].T) ** 2),
        "inputs": lambda rng, n: {
            "X": rng.standard_normal((n, n)),
            "U": rng.standard_normal((n, RANK)),
            "V": rng.standard_normal((n, RANK)),
        },
    },
]


def generated(matcalc, problem, n, order, fmt):
    """The generated module for a problem at size n."""
    cmd = [matcalc, "derive", problem["expr"], "--wrt", problem["wrt"], "--order", str(order),
           "--let", problem["decls"](n), "--format", fmt]
    code = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"generated_{fmt}")
    exec(compile(code, "generated.py", "exec"), module.__dict__)
    return module


def best(f, repeats):
    """The best wall time of f() in milliseconds, after one warm-up call."""
    jax.block_until_ready(f())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(f())
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matcalc", default="target/release/matcalc")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| problem | n | derivative | matcalc NumPy ms | matcalc JAX ms | JAX autodiff ms | autodiff / matcalc JAX |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for problem in PROBLEMS:
        for n in [int(s) for s in args.sizes.split(",")]:
            inputs = problem["inputs"](rng, n)
            jax_inputs = {k: jnp.asarray(v) for k, v in inputs.items()}
            key = problem["wrt"]
            rest = {k: v for k, v in jax_inputs.items() if k != key}

            # The function of the variable differentiated by alone.
            def of_key(x, rest, f=problem["jax"], key=key):
                return f({**rest, key: x})

            for order, label, autodiff in [
                (1, "gradient", jax.jit(jax.value_and_grad(of_key))),
                (2, "Hessian", jax.jit(jax.hessian(of_key))),
            ]:
                numpy_module = generated(args.matcalc, problem, n, order, "numpy")
                jax_module = generated(args.matcalc, problem, n, order, "jax")
                ours = jax.jit(lambda v, m=jax_module: m.derivatives(**v))
                full = key if order == 1 else f"{key},{key}"
                # Same numbers first: the generated result against autodiff.
                reference = autodiff(jax_inputs[key], rest)
                reference = reference[1] if order == 1 else reference
                np.testing.assert_allclose(np.asarray(ours(jax_inputs)[full]),
                                           np.asarray(reference).reshape(np.shape(ours(jax_inputs)[full])),
                                           rtol=1e-8, atol=1e-8)
                t_numpy = best(lambda: numpy_module.derivatives(**inputs)[full], args.repeats)
                t_ours = best(lambda: ours(jax_inputs)[full], args.repeats)
                t_auto = best(lambda: autodiff(jax_inputs[key], rest), args.repeats)
                print(f"| {problem['name']} | {n} | {label} | {t_numpy:.3f} | {t_ours:.3f} | {t_auto:.3f} | {t_auto / t_ours:.1f}× |",
                      flush=True)


if __name__ == "__main__":
    main()
