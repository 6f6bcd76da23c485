"""Summarise bench/peer.sh's rows: medians (min-max) of each side and Keyward ÷ peer.

Rows are "run side case rps p50_ms p99_ms", side k (Keyward) or p (peer). Ratios are taken
run by run (each pair measured back to back), then their median.
"""

import statistics
import sys
from collections import defaultdict

CASES = ("floor", "hot", "spread")


def main(path: str) -> None:
    data = defaultdict(dict)  # (case, side) -> run -> (rps, p50, p99)
    with open(path) as rows:
        for line in rows:
            run, side, case, rps, p50, p99 = line.split()
            data[case, side][run] = (float(rps), float(p50), float(p99))

    def latency(side: dict, runs: list[str]) -> str:
        p50 = statistics.median(side[r][1] for r in runs)
        p99 = statistics.median(side[r][2] for r in runs)
        return f"{p50:.1f}/{p99:.1f}"

    def spread(values: list[float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"

    print(
        f"{'':8} {'Keyward req/s':>24} {'peer req/s':>24} {'K ÷ P':>20} "
        f"{'K p50/p99 ms':>14} {'P p50/p99 ms':>14}"
    )
    for case in CASES:
        k, p = data[case, "k"], data[case, "p"]
        runs = sorted(set(k) & set(p))
        ratios = [k[r][0] / p[r][0] for r in runs]
        k_lat, p_lat = (latency(side, runs) for side in (k, p))
        print(
            f"{case:8} {spread([k[r][0] for r in runs], ',.0f'):>24} "
            f"{spread([p[r][0] for r in runs], ',.0f'):>24} {spread(ratios, '.2f'):>20} "
            f"{k_lat:>14} {p_lat:>14}"
        )
    for side, name in (("k", "Keyward"), ("p", "peer")):
        floor = data["floor", side]
        for case in ("hot", "spread"):
            runs = sorted(set(floor) & set(data[case, side]))
            own = [data[case, side][r][0] / floor[r][0] for r in runs]
            print(f"{name} {case} ÷ its own floor: {spread(own, '.2f')}")


if __name__ == "__main__":
    main(sys.argv[1])
