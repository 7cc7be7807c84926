"""A sweep driver for the cluster tests: `hpo` itself, with the task gated (tests/cluster/gates.py).

    python tests/cluster/driver.py GATE_FOLDER TOGETHER [--logical-gpus N] -- run binary ...

--logical-gpus N first starts a local Ray that declares N GPUs the machine does not have (what the
`hpo` command cannot do), so that trials get GPUs Ray hands out but CUDA cannot see.
"""
import argparse
import sys

import ray.cloudpickle

from pipelines import registry
from pipelines.cli.commands import main
from tests.cluster import gates


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("gate_folder")
    parser.add_argument("together", type=int)
    parser.add_argument("--logical-gpus", type=int)
    options, hpo_args = parser.parse_known_args(argv)
    hpo_args = [a for a in hpo_args if a != "--"]
    task = hpo_args[1]
    # Workers cannot import the tests: the gated task travels to them by value.
    ray.cloudpickle.register_pickle_by_value(gates)
    original = registry.TASKS[task]
    registry.TASKS[task] = registry.Registered(gates.gated(original.task, options.gate_folder, options.together),
                                               original.define_space)
    if options.logical_gpus is not None:
        ray.init(address="local", num_cpus=2, num_gpus=options.logical_gpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    return main(hpo_args)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
