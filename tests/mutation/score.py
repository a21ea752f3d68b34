"""The mutation score of the last `make mutate`, from mutmut's own records, less the mutants shown to be equivalent.

mutmut keeps one `<module>.py.meta` file (JSON) per mutated module under its `mutants/` folder, with the exit code
of the test run for each mutant (`exit_code_by_key`); its exit-code table (`mutmut.stats.status_by_exit_code`) says
what each code means. A mutant counts as killed when a test failed on it, or it ran past its time limit (a mutant
that makes the code loop is caught, as `mutmut badge` counts it too). Every other outcome counts against the score:
survived, no test reached it, suspicious, not run. Mutants listed in `tests/mutation/equivalent.md` (a list item
whose first backticked word is the mutant's name, with the reason after it) behave exactly like the original code,
so no test can tell them apart: they leave the count altogether.

Exit status: 0 at or above the threshold, 1 below it or when the records or the list are not usable.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

THRESHOLD = 90.0
KILLED = {"killed", "timeout", "caught by type check"}
EQUIVALENT_ITEM = re.compile(r"^\s*[-*]\s+`(?P<name>[\w.]+__mutmut_\d+)`\s*[:—–-]?\s*(?P<reason>.*)$")


def read_results(mutants: Path) -> dict[str, str]:
    """The status of every mutant, by name, from the meta files mutmut left under `mutants`."""
    statuses: dict[str, str] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        for name, exit_code in json.loads(meta.read_text())["exit_code_by_key"].items():
            statuses[name] = status_by_exit_code[exit_code] if exit_code is not None else "not checked"
    return statuses


def read_equivalents(listing: Path) -> dict[str, str]:
    """The mutants declared equivalent, with their reasons; an item without a reason is an error."""
    equivalents: dict[str, str] = {}
    for number, line in enumerate(listing.read_text().splitlines(), start=1) if listing.exists() else ():
        item = EQUIVALENT_ITEM.match(line)
        if not item:
            continue
        if not item["reason"].strip():
            raise SystemExit(f"{listing}:{number}: {item['name']} is listed as equivalent without a reason")
        equivalents[item["name"]] = item["reason"].strip()
    return equivalents


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", type=Path, help="mutmut's mutants/ folder")
    parser.add_argument("--equivalent", type=Path, default=Path(__file__).with_name("equivalent.md"))
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args()

    statuses = read_results(args.mutants)
    if not statuses:
        print(f"no mutmut results under {args.mutants}: run make mutate")
        return 1
    equivalents = read_equivalents(args.equivalent)

    # An entry is stale when its mutant is gone (the code changed, and mutmut numbers mutants per function) or a
    # test now kills it: either way it no longer excuses anything, and the list should be brought up to date.
    stale = {name: statuses.get(name, "no longer generated") for name in equivalents if statuses.get(name) in KILLED | {None}}
    excused = {name for name in equivalents if name not in stale}
    counted = {name: status for name, status in statuses.items() if name not in excused}
    by_status = Counter(counted.values())
    killed = sum(by_status[status] for status in KILLED)
    score = 100.0 * killed / len(counted) if counted else 100.0

    print(f"mutants: {len(statuses)} generated, {len(excused)} equivalent (tests/mutation/equivalent.md), {len(counted)} counted")
    print("  " + ", ".join(f"{status} {count}" for status, count in sorted(by_status.items(), key=lambda kv: -kv[1])))
    not_killed = sorted(name for name, status in counted.items() if status not in KILLED)
    if not_killed:
        print(f"not killed ({len(not_killed)}; `mutmut show NAME` in .local/mutate shows one):")
        for name in not_killed:
            print(f"  {name}: {counted[name]}")
    for name, status in sorted(stale.items()):
        print(f"stale entry in {args.equivalent.name}: {name} is {status}")
    print(f"mutation score: {killed}/{len(counted)} killed = {score:.1f} % (threshold {args.threshold:.0f} %)")
    return 0 if score >= args.threshold else 1


if __name__ == "__main__":
    sys.exit(main())
