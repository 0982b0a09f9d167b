"""The timeline of one decode step from the Chrome-trace JSON that `hgca run --timeline` writes: one row per
resource (host thread, GPU compute, PCIe H2D, PCIe D2H, each CPU core), one bar per operation.

Shows the first decode step of the first `hgca` run in the file (else of its first run).
"""

from __future__ import annotations

import json

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis import style


class TimelineFileError(Exception):
    """A timeline file that is missing or not a Chrome trace; one line naming the file."""


TRACK_COLOURS = {
    "host": "#999999",
    "GPU": style.RESOURCES["GPU"][1],
    "H2D": style.RESOURCES["H2D"][1],
    "D2H": style.RESOURCES["D2H"][1],
    "CPU": style.RESOURCES["CPU"][1],
}


def track_kind(track: str) -> str:
    if track.startswith("GPU"):
        return "GPU"
    if "H2D" in track:
        return "H2D"
    if "D2H" in track:
        return "D2H"
    if track.startswith("CPU"):
        return "CPU"
    return "host"


def load_step(path: str) -> tuple[str, int, list[tuple[str, list[tuple[float, float, str]]]]]:
    """(process name, step, [(track, [(start_ms, duration_ms, name)])]) with tracks in the file's order and
    times relative to the step's first operation."""
    try:
        with open(path) as f:
            trace = json.load(f)
        events = trace["traceEvents"]
    except FileNotFoundError:
        raise TimelineFileError(f"{path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TimelineFileError(f"{path}: not a Chrome trace ({error})") from error
    processes, threads, order = {}, {}, {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "process_name":
            processes[e["pid"]] = e["args"]["name"]
        elif e.get("ph") == "M" and e.get("name") == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
        elif e.get("ph") == "M" and e.get("name") == "thread_sort_index":
            order[(e["pid"], e["tid"])] = e["args"]["sort_index"]
    spans = [e for e in events if e.get("ph") == "X"]
    if not spans:
        raise TimelineFileError(f"{path}: the trace has no operations")
    pids = sorted({e["pid"] for e in spans})
    pid = next((p for p in pids if processes.get(p, "").split(" ")[0] == "hgca"), pids[0])
    mine = [e for e in spans if e["pid"] == pid]
    steps = sorted({e.get("args", {}).get("step", 0) for e in mine})
    step = next((s for s in steps if s >= 0), steps[0])
    mine = [e for e in mine if e.get("args", {}).get("step", 0) == step]
    start = min(e["ts"] for e in mine)
    tracks: dict[int, list] = {}
    for e in mine:
        tracks.setdefault(e["tid"], []).append(((e["ts"] - start) / 1e3, e["dur"] / 1e3, e["name"]))
    ordered = sorted(tracks, key=lambda tid: (order.get((pid, tid), tid), tid))
    return (processes.get(pid, f"run {pid}"), step,
            [(threads.get((pid, tid), f"track {tid}"), sorted(tracks[tid])) for tid in ordered])


def step_timeline(path: str) -> Figure:
    process, step, tracks = load_step(path)
    with style.context():
        width, _ = style.PANEL_SIZE
        figure = Figure(figsize=(2 * width, 0.6 + 0.18 * len(tracks)), constrained_layout=True)
        ax = figure.subplots()
        for row, (track, spans) in enumerate(tracks):
            kind = track_kind(track)
            ax.broken_barh([(s, max(d, 1e-6)) for s, d, _ in spans], (row - 0.4, 0.8),
                           facecolors=TRACK_COLOURS[kind], edgecolor="none", label=track, gid=f"track:{track}")
        ax.set_yticks(range(len(tracks)))
        ax.set_yticklabels([t for t, _ in tracks])
        ax.invert_yaxis()
        ax.set_xlabel("Time within the decode step (ms)")
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
        ax.set_title(f"{process}: decode step {step}")
        kinds = list(dict.fromkeys(track_kind(t) for t, _ in tracks))
        ax.legend(handles=[Patch(color=TRACK_COLOURS[k], label=k) for k in kinds], loc="upper center",
                  bbox_to_anchor=(0.5, -0.25 if len(tracks) < 8 else -0.08), ncol=len(kinds))
    return figure
