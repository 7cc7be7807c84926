"""The benchmarks' own logic: fixed-config space files and anytime curves."""
import math

import optuna

from benchmarks.common import FIXED_CONFIG, fixed_space, load_space
from benchmarks.search import anytime_best, time_to
from pipelines.registry import TASKS
from search_spaces.space import Space


def test_a_fixed_space_gives_every_trial_the_same_config(tmp_path):
    overrides = load_space(str(fixed_space(tmp_path / "space.yaml")))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    configs = [TASKS["binary"].define_space(Space(study.ask(), overrides)) for _ in range(3)]
    assert configs == [FIXED_CONFIG] * 3


def test_anytime_best_keeps_each_improvement_and_times_the_target():
    points = [(3.0, 0.5), (1.0, 0.9), (4.0, 0.7), (6.0, 0.2)]
    curve = anytime_best(points)
    assert curve == [(1.0, 0.9), (3.0, 0.5), (6.0, 0.2)]
    assert time_to(curve, 0.5) == 3.0 and time_to(curve, 0.1) == math.inf


def test_driver_profile_counts_a_function_once_per_stack():
    from benchmarks.driver_profile import inclusive_shares

    raw = ["main (a.py:1);save (ray/tune/x.py:5);dump (json/__init__.py:179) 3",
           "main (a.py:1);save (ray/tune/x.py:5);save (ray/tune/x.py:9) 2",
           "main (a.py:1);ask (optuna/s.py:7) 5"]
    total, shares = inclusive_shares(raw)
    assert total == 10
    assert shares["main (a.py)"] == 10 and shares["save (ray/tune/x.py)"] == 5
    assert shares["dump (json/__init__.py)"] == 3 and shares["ask (optuna/s.py)"] == 5
