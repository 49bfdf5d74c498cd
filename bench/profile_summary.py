#!/usr/bin/env python3
"""Sums a torch profiler trace (`ntk-select bench --what embed|grads --profile FILE`) per operator.

Each event's self time is its duration less that of the events nested in it on the same thread,
so aten::linear -> aten::matmul -> aten::mm counts the GEMM once, under aten::mm. Prints the
operators by self time with their share of the traced wall time.

    bench/profile_summary.py trace.json [--top 25]
"""
import argparse
import collections
import json
import sys


def events(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get("traceEvents", [])
    return [e for e in data if e.get("ph") == "X" and "dur" in e]


def self_times(evs):
    by_thread = collections.defaultdict(list)
    for e in evs:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    total = collections.Counter()
    calls = collections.Counter()
    for thread in by_thread.values():
        thread.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, name, child time]
        def close(until):
            while stack and stack[-1][0] <= until:
                end, name, children, dur = stack.pop()
                total[name] += dur - children
                if stack:
                    stack[-1][2] += dur
        for e in thread:
            ts, dur = float(e["ts"]), float(e["dur"])
            close(ts)
            stack.append([ts + dur, e["name"], 0.0, dur])
            calls[e["name"]] += 1
        close(float("inf"))
    return total, calls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    evs = events(args.trace)
    if not evs:
        sys.exit(f"{args.trace}: no complete events (ph X) in the trace")
    wall = max(float(e["ts"]) + float(e["dur"]) for e in evs) - min(float(e["ts"]) for e in evs)
    total, calls = self_times(evs)
    print(f"{args.trace}: {len(evs)} events, {wall / 1e3:.1f} ms traced")
    print(f"{'operator':<40} {'self ms':>10} {'share':>7} {'calls':>7}")
    for name, us in total.most_common(args.top):
        print(f"{name:<40} {us / 1e3:10.1f} {100 * us / wall:6.1f}% {calls[name]:7d}")


if __name__ == "__main__":
    main()
