"""``python -m cnnkit COMMAND``: the course's command line.

* ``download [NAME ...|all]``: fetch datasets into the data root (for a workshop without network), then say
  what is there as ``doctor`` does: the full dataset or a sample, with counts
* ``doctor``: the environment report, and which datasets are present (full or sample); exit 1 if any is not
* ``student-edition OUT_DIR``: the notebooks without solutions
* ``run-full NOTEBOOK ...``: execute notebooks at full size and save their metrics to ``results/``
* ``syllabus``: rewrite the README's syllabus table, and the recorded times the notebooks show (shipped in the
  package as ``cnnkit/recorded_times.json``), from ``results/*.json``
* ``colab-ref REF``: set the repository ref every notebook's Colab Setup cell installs
* ``workshop``: rewrite the workshop kit's budget table and schedules from the notebooks and ``results/quick/``
* ``preflight``: train a small model on this machine, the check each workshop laptop runs beforehand

An expected failure (a file that exists already, a missing folder, a bad argument) ends in one line on
stderr and exit status 1, never in a Python traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Where `run-full --quick` writes unless told otherwise: ignored by git (.gitignore), so that a learner's
# reduced-mode run never touches the measured results in results/.
LOCAL_RESULTS = "local-results"
DESCRIPTION = ("The command line of the CNN course: fetch the datasets, check the machine, write the student "
               "edition, run notebooks and record their results.")


class CommandError(Exception):
    """A command-line error: printed as one line, exit status 1."""


def _contents(name: str) -> str:
    """What the data root holds of dataset ``name``, in the words of ``python -m cnnkit doctor``: the full
    dataset or a sample of it, with counts."""
    from .doctor import _counts, _describe, _scope

    try:
        counts = _counts(name)
    except Exception as err:  # a damaged file: say so, as doctor does
        return f"present but unreadable: {type(err).__name__}: {err}"
    if not any(counts.values()):
        return "the folders are there but hold no images"
    return _describe(name, counts, _scope(name, counts))


def _cmd_download(args) -> int:
    from . import data
    from .config import data_root

    names = list(data.DATASETS) if not args.names or "all" in args.names else args.names
    unknown = [n for n in names if n not in data.DATASETS]
    if unknown:
        print(f"Unknown dataset(s): {', '.join(unknown)}. Choose from: {', '.join(data.DATASETS)} or all.",
              file=sys.stderr)
        return 2
    print(f"Data root: {data_root()}")
    there = data.status()
    failed = 0
    for name in names:
        # what is already there can be a sample (the offline pack's): never describe it as the full download
        print(f"\n== {name}: " + ("already in the data root" if there[name][0]
                                   else f"not here; downloading the full dataset, {data.DATASETS[name]}"))
        try:
            where = data.ENSURE[name]()
        except data.DataNotFoundError as err:
            print(err, file=sys.stderr)
            failed += 1
            continue
        print(f"ready: {where}\n       {_contents(name)}")
    return 1 if failed else 0


def _cmd_doctor(args) -> int:
    from .doctor import run

    return run()


def _cmd_student(args) -> int:
    from .student import write_student_edition

    written = write_student_edition(args.notebooks, args.out_dir, overwrite=args.force)
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_run_full(args) -> int:
    from .runner import run_notebook

    missing = [nb for nb in args.notebooks if not Path(nb).is_file()]
    if missing:
        raise CommandError(f"no such notebook: {', '.join(missing)}")
    results = args.results or (LOCAL_RESULTS if args.quick else "results")
    for nb in args.notebooks:
        run_notebook(nb, results_dir=results, quick=args.quick, timeout=args.timeout, executed_dir=args.executed)
    return 0


def _cmd_syllabus(args) -> int:
    from .results import TIMINGS_FILE
    from .runner import update_readme, update_timings

    changed = update_readme(args.readme, args.results, check=args.check)
    times_changed = update_timings(args.results, check=args.check)
    if args.check and (changed or times_changed):
        stale = " and ".join(what for what, c in ((f"{args.readme}'s syllabus table", changed),
                                                   (str(TIMINGS_FILE), times_changed)) if c)
        print(f"{stale}: out of date; run  python -m cnnkit syllabus", file=sys.stderr)
        return 1
    print(f"{args.readme}: syllabus table {'updated' if changed else 'already up to date'}")
    print(f"{TIMINGS_FILE}: recorded times {'updated' if times_changed else 'already up to date'}")
    return 0


def _cmd_colab_ref(args) -> int:
    from .colab import set_colab_ref

    for path in set_colab_ref(args.ref, args.notebooks):
        print(f"updated {path}")
    return 0


def _cmd_workshop(args) -> int:
    from .workshop import update_kit

    changed = update_kit(args.kit, args.notebooks, args.results, check=args.check)
    if args.check and changed:
        print(f"{args.kit}: the budget table or schedules are out of date; run  python -m cnnkit workshop",
              file=sys.stderr)
        return 1
    print(f"{args.kit}: budget table and schedules {'updated' if changed else 'already up to date'}")
    return 0


def _cmd_preflight(args) -> int:
    from .quiet import import_tensorflow
    from .workshop import preflight

    import_tensorflow()  # its start-up notices stay out of the output

    return 0 if preflight(args.images, args.epochs)["ok"] else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cnnkit", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="download datasets into the data root (CNNKIT_DATA)",
                       description="Download datasets into the data root ($CNNKIT_DATA, else data/ in the "
                                   "checkout), verifying checksums. Datasets: fashion-mnist, cifar-10, "
                                   "blood-cells, cats-vs-dogs, or all (the default).")
    p.add_argument("names", nargs="*", metavar="NAME", help="dataset names, or 'all'")
    p.set_defaults(func=_cmd_download)

    p = sub.add_parser("doctor", help="print versions, GPU, data root and which datasets are present",
                       description="Print versions, GPU, the data root and, for each dataset, whether it is there "
                                   "and whether it is the full dataset or a sample. Downloads nothing. Exit status "
                                   "0 when all four datasets are there, 1 otherwise.")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("student-edition", help="write the notebooks with solutions removed")
    p.add_argument("out_dir", help="folder to write into (created; existing files are not overwritten)")
    p.add_argument("--notebooks", default="notebooks", help="source folder (default: notebooks)")
    p.add_argument("--force", action="store_true", help="overwrite notebooks already in OUT_DIR")
    p.set_defaults(func=_cmd_student)

    p = sub.add_parser("run-full", help="run notebooks at full size and save their metrics")
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--results", help=f"results folder (default: results; with --quick: {LOCAL_RESULTS}, which "
                                     "git ignores)")
    p.add_argument("--quick", action="store_true", help="reduced mode; writes to RESULTS/quick/")
    p.add_argument("--timeout", type=int, default=4 * 3600, help="seconds per cell (default 4 hours)")
    p.add_argument("--executed", metavar="DIR",
                   help="also save each executed notebook, with its outputs, as DIR/<name>.executed.ipynb")
    p.set_defaults(func=_cmd_run_full)

    p = sub.add_parser("syllabus", help="regenerate the README syllabus table and cnnkit/recorded_times.json "
                                        "from results/*.json")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--results", default="results")
    p.add_argument("--check", action="store_true", help="only check; exit 1 if the table is out of date")
    p.set_defaults(func=_cmd_syllabus)

    p = sub.add_parser("colab-ref", help="set the git ref the notebooks' Colab Setup cells install")
    p.add_argument("ref")
    p.add_argument("--notebooks", default="notebooks")
    p.set_defaults(func=_cmd_colab_ref)

    p = sub.add_parser("workshop", help="regenerate the workshop kit's budget table and schedules",
                       description="Rewrite the part of the workshop kit between its markers: each notebook's "
                                   "reading time, recorded reduced-mode run and exercise allowance, and the one- and "
                                   "two-day schedules built from them.")
    p.add_argument("--kit", default="docs/workshop.md")
    p.add_argument("--notebooks", default="notebooks")
    p.add_argument("--results", default="results")
    p.add_argument("--check", action="store_true", help="only check; exit 1 if the kit is out of date")
    p.set_defaults(func=_cmd_workshop)

    p = sub.add_parser("preflight", help="train a small model here: the check each workshop laptop runs beforehand",
                       description="Train LeNet-5 on a few thousand Fashion-MNIST images and test it; exit 0 when "
                                   "it learned (at least 60% test accuracy; chance is 10%), 1 otherwise.")
    p.add_argument("--images", type=int, default=3_000, help="training images (default 3,000)")
    p.add_argument("--epochs", type=int, default=3, help="epochs (default 3)")
    p.set_defaults(func=_cmd_preflight)
    return parser


def _expected_errors() -> tuple:
    from .runner import NotebookFailed

    # DataNotFoundError is a FileNotFoundError; its message (several lines) says what to do.
    return (CommandError, NotebookFailed, FileExistsError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
            PermissionError, ValueError)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"python -m cnnkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except _expected_errors() as err:
        print(f"python -m cnnkit {args.command}: error: {err}", file=sys.stderr)
        return 1
