"""A sweep run from Python (a script, a notebook cell) with hpo.run: the flags of `hpo run` as keyword
arguments, the result handed back.

    python examples/run_from_python.py
"""
from pathlib import Path

import hpo

if __name__ == "__main__":
    result = hpo.run(str(Path(__file__).with_name("signal_shapes.py")), trials=6, max_epochs=15)
    print(f"final model: {result.final_model} ({result.model_uri})")
    print("test metrics:", {k: round(v, 4) for k, v in result.test_metrics.items() if k.endswith(("_acc", "_loss"))})
    print("best config:", result.best_config)
    print("trials:", ", ".join(sorted(result.trial_run_ids)))
