"""`make bench`: run every benchmark in bench/ and print one table (or only those named:
`bench/run_all.py api_load growth`).

Each script prints its rows through bench/_common.py; this runner prints the header once
and passes BENCH_NO_HEADER=1 so the scripts don't repeat it. Benchmarks never fail on speed:
a script that crashes is reported, the others still run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import print_header  # noqa: E402


def main() -> int:
    only = set(sys.argv[1:])  # `bench/run_all.py api_load growth` runs just those
    scripts = sorted(
        p
        for p in HERE.glob("*.py")
        if not p.name.startswith("_") and p.name != "run_all.py" and (not only or p.stem in only)
    )
    load = os.getloadavg()
    print_header()
    failed = []
    for script in scripts:
        result = subprocess.run(  # noqa: S603 - our own scripts
            [sys.executable, str(script)],
            env={**os.environ, "BENCH_NO_HEADER": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        rows = [line for line in result.stdout.splitlines() if line.strip()]
        print("\n".join(rows), flush=True)
        if result.returncode != 0:
            failed.append(script.name)
            print(f"{script.name}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
    print(
        f"\n{os.cpu_count()} cores; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the"
        " start (other jobs share the machine: compare ratios, not absolute figures)"
    )
    if failed:
        print(f"benchmarks that did not run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
