"""The `hpo` commands. Bad input: one `error:` line on stderr and exit status 2, nothing written.

Each command imports its room when it runs: `hpo --help` and bad flags answer without loading torch,
Ray or MLflow.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from pipelines.cli.parser import build_parser
from pipelines.errors import InputError, UsageError
from pipelines.tracking.patience import StoreUnavailable  # imports nothing heavy


def cmd_tasks(args) -> int:
    from pipelines import registry
    from pipelines.reporting.tables import format_table
    from pipelines.task_sources import installed
    from trainables.catalog import card
    from trainables.metrics import Objective

    objective = Objective()  # every task's default; --metric picks another
    rows = [[c["name"], "built in", c["default_data"], ", ".join(c["metrics"])]
            for c in map(card, registry.TASK_NAMES)]
    for name, point in installed().items():  # an installed package's tasks: loading them imports the package
        source = f"package {point.dist.name if point.dist else '?'} ({point.value})"
        if name in registry.TASK_NAMES:
            rows.append([name, source, "not usable: a built-in task has this name", ""])
            continue
        try:
            task = registry.get(name).task
        except InputError as exc:  # one broken package does not hide the other tasks
            rows.append([name, source, f"cannot load: {exc}", ""])
            continue
        rows.append([name, source, task.default_data, ", ".join(task.metrics)])
    print(format_table(["task", "from", "default data", "also reported (each may be the --metric)"], rows))
    print(f"objective: {objective.metric} ({objective.mode}) unless --metric names another. Your own: "
          "hpo run path/to/my_task.py, or package.module:NAME (see the README, \"Tune your own model\").")
    return 0


def cmd_run(args) -> int:
    from pipelines.engine.prepare import prepare
    from pipelines.engine.settings import SweepSettings

    settings = SweepSettings(**{k: v for k, v in vars(args).items() if k != "command"})
    prepared = prepare(settings)  # bad input answers before Ray and the engine are imported (seconds)
    args.sweep_dir = prepared.sweep_dir  # named in the hint should a second Ctrl-C end it
    from pipelines.engine.sweep import run_sweep

    return conclude(run_sweep(settings, prepared=prepared))


def cmd_resume(args) -> int:
    from pipelines.engine.resume import resume_sweep

    args.sweep_dir = Path(args.storage or "ray_results").expanduser().resolve() / args.name
    outcome = resume_sweep(args.name, args.storage, args.tracking_uri, args.trials)
    return 0 if outcome is None else conclude(outcome)


def conclude(outcome) -> int:
    """Print a finished sweep's summary; the exit status says how it ended."""
    from pipelines.reporting.next_steps import resume_command
    from pipelines.reporting.summary import print_summary

    print_summary(outcome)
    if outcome.interrupted:
        print(f"error: interrupted; the sweep's state is saved: continue it with "
              f"{resume_command(outcome.name, outcome.sweep_dir)}", file=sys.stderr)
        return 130
    if outcome.best is None:
        failed = sum(t.status == "failed" for t in outcome.trials)
        if outcome.trials and failed == len(outcome.trials):
            print(f"error: every trial of sweep {outcome.name!r} failed; see the hpo.error tags of its runs",
                  file=sys.stderr)
        else:  # not all failed, yet none has a result: the sweep ended before any trial reported one
            print(f"error: no trial of sweep {outcome.name!r} reported a result ({len(outcome.trials)} started, "
                  f"{failed} failed); with a --time-budget, give it more time", file=sys.stderr)
        return 1
    return 0


def cmd_best(args) -> int:
    from pipelines.reporting.summary import print_leaderboard

    if args.top < 1:
        raise UsageError(f"The --top must be an integer > 0, got {args.top}.")
    print_leaderboard(args.name, args.top, args.tracking_uri)
    return 0


def cmd_ui(args) -> int:
    from pipelines.tracking.ui import run_ui

    return run_ui(args.host, args.port, args.tracking_uri)


def cmd_promote(args) -> int:
    from pipelines.reporting.next_steps import after_promote
    from pipelines.serving.promote import promote

    done = promote(args.name, args.model_name, args.alias, args.tracking_uri)
    print(f"{done.uri}  (registered model {done.model_name!r}, version {done.version}; alias {done.alias!r} "
          f"points at it)")
    print("\n".join(after_promote(done.uri, done.tracking_uri)))
    return 0


def cmd_predict(args) -> int:
    from pipelines.serving.predict import predict

    return predict(args.model_uri, args.data, args.tracking_uri)


def cmd_train(args) -> int:
    from pipelines.engine.train_once import train_once

    return train_once(args.task, args.config, data=args.data, target=args.target, drop=args.drop,
                      dataset=args.dataset, data_dir=args.data_dir, seed=args.seed, tracking_uri=args.tracking_uri,
                      name=args.name, metric=args.metric)


def cmd_check_task(args) -> int:
    from pipelines.engine.task_check import check_task

    return check_task(args.task, data=args.data, target=args.target)


COMMANDS = {"tasks": cmd_tasks, "check-task": cmd_check_task, "run": cmd_run, "resume": cmd_resume,
            "best": cmd_best, "ui": cmd_ui, "promote": cmd_promote, "predict": cmd_predict, "train": cmd_train}


def main(argv: list[str] | None = None) -> int:
    args = None
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        from pipelines.reporting.next_steps import resume_command

        sweep_dir = getattr(args, "sweep_dir", None)
        then = (f"; the sweep's state is saved: continue it with {resume_command(sweep_dir.name, sweep_dir)} once "
                "the store answers" if sweep_dir is not None else "")
        print(f"error: {exc}{then}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        sweep_dir = getattr(args, "sweep_dir", None)
        if sweep_dir is not None and (sweep_dir / "sweep_config.yaml").is_file():  # saved far enough to resume
            from pipelines.reporting.next_steps import resume_command

            print(f"error: interrupted; continue the sweep with {resume_command(sweep_dir.name, sweep_dir)}",
                  file=sys.stderr)
        else:
            print("error: interrupted; a sweep that had started can be continued with 'hpo resume NAME'",
                  file=sys.stderr)
        return 130
    finally:
        sys.stdout.flush()
        stop_ray()


def stop_ray() -> None:
    """End the local Ray this command started (if the sweep has not already), ignoring a late Ctrl-C:
    the sweep is already closed, and Ray's exit hook would otherwise print a traceback when interrupted."""
    ray_session = sys.modules.get("pipelines.engine.ray_session")  # imported only where Ray may have started
    ending = ray_session.session.end_beside() if ray_session is not None else None
    if ending is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ending.join()


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
