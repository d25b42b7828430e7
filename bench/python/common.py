"""Result line shared by the reference scripts, in the protocol that bench/node/result.ts defines."""

import json
import resource
import sys

RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_bytes() -> int:
    """Return this process's peak resident set size in bytes (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit_result(result: dict) -> None:
    """Print the one result line that bench/run.ts parses, adding the peak RSS."""
    sys.stdout.write(RESULT_PREFIX + json.dumps({**result, "peakRssBytes": peak_rss_bytes()}) + "\n")
    sys.stdout.flush()
