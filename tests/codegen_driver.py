"""Runs generated matcalc modules for tests/codegen.rs.

Reads a JSON list of cases from the file named by argv[1]; each case has an
`id`, the module `code`, and `inputs` (variable -> nested lists, in the
module's layout). For each case it loads the module, calls
`derivatives(**inputs)` with every abstract function instantiated as
L(Y) = sum(sin(Y)) + 0.5*norm2(Y)^2 (dL = cos(Y) + Y), calls `value` the
same way, and runs the module's own `check_gradient(seed=0)`. Writes one
JSON line per case: {"id", "results", "value", "check"} or {"id", "error"}.
"""

import json
import sys
import traceback
import types

import numpy as np


def instance_value(y):
    return np.sum(np.sin(y)) + 0.5 * np.sum(np.asarray(y) * np.asarray(y))


def instance_gradient(y):
    return np.cos(y) + y


INSTANCES = {"value": instance_value, "gradient": instance_gradient}


def nested(a):
    return np.asarray(a, dtype=float).tolist()


def run(case):
    module = types.ModuleType("generated_" + case["id"].replace("-", "_"))
    exec(compile(case["code"], case["id"] + ".py", "exec"), module.__dict__)
    inputs = {name: np.asarray(v, dtype=float) for name, v in case["inputs"].items()}
    for_derivatives = {n: INSTANCES[k] for n, k in module._FOR_DERIVATIVES.items()}
    for_value = {n: INSTANCES[k] for n, k in module._FOR_VALUE.items()}
    results = module.derivatives(**inputs, **for_derivatives)
    value = module.value(**inputs, **for_value)
    check = module.check_gradient(seed=0)
    return {
        "id": case["id"],
        "results": {key: nested(v) for key, v in results.items()},
        "value": nested(value),
        "check": check,
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    for case in cases:
        try:
            out = run(case)
        except Exception as e:  # reported per case, the batch goes on
            out = {"id": case["id"], "error": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
