"""The run as a picture: completed operations per second (ok, failed, unknown), the p99 latency per
second, and the fault timeline, so an operator sees what each fault cost. Drawn with Pillow."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from bench.faults.nemesis import Fault
from bench.faults.workload import History

W, H, PAD = 1200, 560, 50
COLORS = {"ok": (46, 160, 67), "fail": (210, 153, 34), "unknown": (207, 34, 46)}


def _series(history: History) -> tuple[int, dict[str, list[int]], list[float]]:
    seconds = int(max((op.completed for op in history.ops), default=1)) + 1
    counts = {k: [0] * seconds for k in COLORS}
    latencies: list[list[float]] = [[] for _ in range(seconds)]
    for op in history.ops:
        second = int(op.completed or op.invoked)
        counts[op.outcome][min(second, seconds - 1)] += 1
        if op.completed:
            latencies[min(second, seconds - 1)].append(op.completed - op.invoked)
    p99 = [sorted(x)[int(len(x) * 0.99)] if x else 0.0 for x in latencies]
    return seconds, counts, p99


def plot(history: History, timeline: list[Fault], path: Path) -> Path:
    seconds, counts, p99 = _series(history)
    image = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(image)
    top = max(max(sum(counts[k][s] for k in counts) for s in range(seconds)), 1)
    slow = max(max(p99), 0.001)
    x = lambda s: PAD + (W - 2 * PAD) * s / max(seconds, 1)  # noqa: E731
    for fault in timeline:
        draw.rectangle([x(fault.at), PAD, max(x(fault.until), x(fault.at) + 2), H - PAD], fill=(235, 235, 250))
        draw.text((x(fault.at) + 2, PAD - 14 + 12 * (timeline.index(fault) % 3)), fault.kind, fill=(60, 60, 140))
    for s in range(seconds):
        base = H - PAD
        for kind, color in COLORS.items():
            height = (H - 2 * PAD) * 0.6 * counts[kind][s] / top
            draw.rectangle([x(s), base - height, x(s + 1) - 1, base], fill=color)
            base -= height
    points = [(x(s + 0.5), H - PAD - (H - 2 * PAD) * p99[s] / slow) for s in range(seconds)]
    if len(points) > 1:
        draw.line(points, fill=(0, 0, 0), width=2)
    draw.rectangle([PAD, PAD, W - PAD, H - PAD], outline=(0, 0, 0))
    draw.text((PAD, 8), f"operations/s (green ok, amber failed, red unknown; max {top}/s); black: p99 latency "
                        f"(max {slow:.2f} s); shaded: faults; {seconds} s", fill=(0, 0, 0))
    image.save(path)
    return path
