#!/usr/bin/env python3
"""Where a server's CPU went, from `perf script` output of `perf record -g` (bench/journeys/run.sh with PROFILE=1).

Prints, as '#'-lines:
- the share of samples by layer: under the database client (PostgresNIO, PostgresKit, Fluent, SQLKit, the pool),
  else under Vapor and the HTTP pipeline, else under the app's own code, else none of them (the event loops'
  scheduling, the kernel, allocation);
- the Swift modules most often on the stack (a sample counts once per module);
- the app's functions most often on the stack, demangled (swift-demangle when found).

A stack counts for every frame it holds, so the shares of functions overlap. Async functions show only their
synchronous stretches: a frame's share is a floor, not its whole cost.

Usage: perf script -i perf.data | profile_summary.py [--label direct] [--top 15]
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys

DATABASE = re.compile(r"^\$s(11PostgresNIO|11PostgresKit|8AsyncKit|20FluentPostgresDriver|9FluentKit|6SQLKit)")
HTTP = re.compile(r"^\$s(5Vapor|7NIOHTTP1|18NIOHTTPCompression)")
APP = "$s3App"
MODULE = re.compile(r"^\$s(\d+)([A-Za-z_]\w*)")


def samples(lines):
    """Each sample's frames (symbols only), innermost first."""
    frames = None
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = None
        elif not line[0].isspace():
            frames = []
        elif frames is not None:
            parts = line.split()
            if len(parts) >= 2:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1]))
    if frames:
        yield frames


def module(symbol):
    match = MODULE.match(symbol)
    if not match:
        return None
    length = int(match.group(1))
    return match.group(2)[:length]


def demangle(symbols):
    tool = shutil.which("swift-demangle") or next(
        (p for p in ("/opt/swift/usr/bin/swift-demangle",) if os.access(p, os.X_OK)), None)
    if not tool or not symbols:
        return {s: s for s in symbols}
    out = subprocess.run([tool, "--simplified", "--compact"], input="\n".join(symbols), capture_output=True, text=True)
    names = out.stdout.splitlines()
    return {s: (n if n else s) for s, n in zip(symbols, names)} if len(names) == len(symbols) else {s: s for s in symbols}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="server")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    total = 0
    layers = collections.Counter()
    modules = collections.Counter()
    app_frames = []  # each sample's app functions (mangled), named once demangled
    for frames in samples(sys.stdin):
        total += 1
        if any(DATABASE.match(f) for f in frames):
            layers["database client"] += 1
        elif any(HTTP.match(f) for f in frames):
            layers["Vapor and HTTP"] += 1
        elif any(f.startswith(APP) for f in frames):
            layers["the app's own code"] += 1
        else:
            layers["none of them (scheduling, kernel, allocation)"] += 1
        for name in {module(f) for f in frames} - {None}:
            modules[name] += 1
        app_frames.append({f for f in frames if f.startswith(APP)})
    if total == 0:
        print(f"# profile ({args.label}): no samples")
        return
    share = lambda n: f"{100 * n / total:5.1f} %"
    print(f"# profile ({args.label}): {total} samples of the server's stacks")
    for layer in ("database client", "Vapor and HTTP", "the app's own code", "none of them (scheduling, kernel, allocation)"):
        print(f"#   {share(layers[layer])}  {layer}")
    print("#   modules on the stack: " + ", ".join(f"{name} {100 * n / total:.0f} %" for name, n in modules.most_common(12)))
    # An async function's stretches have mangled names of their own: counted once per sample under their one name.
    names = demangle(sorted(set().union(*app_frames)))
    functions = collections.Counter()
    for frames in app_frames:
        for name in {names[f] for f in frames}:
            functions[name] += 1
    print("#   the app's functions most often on the stack:")
    for name, n in functions.most_common(args.top):
        print(f"#   {share(n)}  {name[:150]}")


if __name__ == "__main__":
    main()
