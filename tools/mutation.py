"""Mutation testing of the modules where a silent bug means wrong bytes (not part of CI's suite).

mutmut (a maintained mutation tester) changes one operator, constant or call at a time in the
code below and runs the tests that reach it; a mutant the tests do not notice ("survived") is a
bug the suite would let through. The score per module is killed / all mutants.

    pip install mutmut          # (not a dependency of the package)
    python tools/mutation.py                     # every module below; about an hour on 2 cores
    python tools/mutation.py --modules coding/payload   # one module (plumbing/files, cli, ...: MODULES below)
    python tools/mutation.py --survivors         # also list the surviving mutants (mutmut show NAME)

Work happens in a temporary copy of the working tree (mutmut writes a ``mutants/`` folder into
the project it runs in); ``--keep DIR`` keeps that copy so that ``mutmut show NAME`` can be run in
it. Target: at least 90 % killed in each module (issue 16).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module (its path under helpers/) -> (mutant name patterns, the tests that guard it: the unit tests
# that reach it, not the end-to-end ones that run a network for seconds per mutant)
FRAMING = ("tests/test_stego.py", "tests/test_compat.py", "tests/test_method.py")
MODULES = {
    "coding/payload": (["helpers.coding.payload.*"],
                       ["tests/test_payload.py", "tests/test_mapping.py", *FRAMING, "-k",
                        "not stego and not compat and not every_method and not key_and_blind or frame or filler"]),
    "coding/mapping": (["helpers.coding.mapping.*"], ["tests/test_mapping.py", "tests/test_payload.py"]),
    "coding/blind_code": (["helpers.coding.blind_code.*"],
                          ["tests/test_blind.py", "-k", "not blind_hide and not capacity_of and not network "
                           "and not cells and not odd_sizes and not command_line and not training "
                           "and not untouched and not altered and not raw_bit and not skips_the_parit"]),
    # key mode's frame path: capacity, the key file, hide's framing and check, reveal's thumbnail check
    # and unframing (the network itself is helpers/network/, tested on its own)
    "methods/key_mode": ([f"helpers.methods.key_mode.x_{f}__mutmut_*"
                          for f in ("capacity", "_corrected_message", "thumbnail", "hide_and_check", "reveal")]
                         + ["helpers.methods.key_mode.xǁKeyǁ*"],
                         ["tests/test_stego.py", "tests/test_files.py", "tests/test_compat.py", "-k",
                          "(frame or capacity_is or filler or flower_17x23 or without_its_corrections or format or "
                          "edges or archive or write or png_and_key or earlier_version or two_tiles or thumbnail or "
                          "altered or other_key or hide_and_check) and not every_write"]),  # (it reads mutmut's copies)
    "plumbing/files": (["helpers.plumbing.files.*"], ["tests/test_files.py", "tests/test_corpus.py", "tests/test_train.py",
                                                      "-k", "not ddp and not command_line and not train_command"]),
    # the command line's checks and errors (what it does between them is the methods' code, above)
    "cli": ([f"helpers.__main__.x_{f}__mutmut_*" for f in ("_method", "_options", "_same_file", "_check_outputs",
                                                            "_hide", "_reveal", "main")]
            + ["helpers.__main__.xǁ_Parserǁ*"],
            ["tests/test_cli.py", "tests/test_files.py", "tests/test_blind.py", "tests/test_evaluate.py", "-k",
             "not memory and not real_command and (cli or command or hide or reveal or usage or bad or force or "
             "output or converted)"]),
}
KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is noticed too


def copy_tree(dest: Path) -> None:
    """The working tree's files that git knows (tracked or not ignored), without mutmut's own output."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file() and not name.startswith("mutants/"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def configure(work: Path, module: str) -> None:
    """Append mutmut's settings for ``module`` to the work copy's pyproject.toml (TOML arrays: JSON)."""
    source = {"cli": "__main__"}.get(module, module)
    settings = {"source_paths": ["helpers"], "only_mutate": [f"helpers/{source}.py"],
                "pytest_add_cli_args_test_selection": MODULES[module][1],
                "pytest_add_cli_args": ["-p", "no:cacheprovider", "-x", "-q"],
                "also_copy": ["data", "benchmarks", "tools", "README.md", "conftest.py"],
                # torch is not fork-safe once its thread pool runs: fork workers from a clean server
                "process_isolation": "forkserver"}
    with open(work / "pyproject.toml", "a") as f:
        f.write("\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()))


def statuses(work: Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work, capture_output=True,
                         text=True, check=True).stdout
    return dict(re.findall(r"^\s+(\S+): (.+)$", out, flags=re.M))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modules", nargs="+", choices=list(MODULES), default=list(MODULES))
    p.add_argument("--max-children", type=int, default=2)
    p.add_argument("--survivors", action="store_true", help="list every mutant that was not killed")
    p.add_argument("--keep", type=Path, help="work in this folder (kept afterwards) instead of a temporary one")
    args = p.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="inn-stego-mutation-"))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")  # one thread per worker, none to deadlock
    rows = []
    for m in args.modules:  # one run per module, each with the tests that guard it
        work = base / m
        work.mkdir(parents=True, exist_ok=True)
        copy_tree(work)
        configure(work, m)
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children),
                              *MODULES[m][0]], cwd=work, env=env)
        if run.returncode:
            print(f"mutmut run failed for {m} (exit code {run.returncode}); its files are in {work}", file=sys.stderr)
            return 1
        prefixes = tuple(pat.split("*")[0] for pat in MODULES[m][0])
        mine = {k: v for k, v in statuses(work).items() if k.startswith(prefixes)}
        rows.append((m, mine))
    worst = 100.0
    print(f"\n{'module':<18}{'mutants':>9}{'killed':>8}{'score':>8}  not killed")
    for m, mine in rows:
        counts = Counter(mine.values())
        killed = sum(counts[s] for s in KILLED)
        score = 100 * killed / max(1, len(mine))
        worst = min(worst, score)
        rest = ", ".join(f"{n} {s}" for s, n in counts.items() if s not in KILLED) or "none"
        print(f"{m:<18}{len(mine):>9}{killed:>8}{score:>7.1f}%  {rest}")
        if args.survivors:
            for k, v in sorted(mine.items()):
                if v not in KILLED:
                    print(f"    {k}: {v}")
    print(f"\nfiles in {base}" + ("" if args.keep else " (temporary)") + "; mutmut show NAME in <folder>/<module>")
    return 0 if worst >= 90 else 2


if __name__ == "__main__":
    sys.exit(main())
