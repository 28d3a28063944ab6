"""Edge routing of the lineage chart: the layer index answers like a scan of every node."""

from __future__ import annotations

import random

from app import lineage_figures
from governance.graphs import Point


def brute_clearance(y: float, low: float, high: float, points: list[Point]) -> float:
    return min((abs(y - p.y) for p in points if low < p.x < high), default=1.0)


def test_layer_index_clearance_matches_a_full_scan() -> None:
    rng = random.Random(7)
    points = [Point(float(rng.randint(0, 6)), rng.uniform(-20, 20)) for _ in range(400)]
    layers = lineage_figures._Layers({str(i): p for i, p in enumerate(points)})
    for _ in range(500):
        y, low = rng.uniform(-25, 25), float(rng.randint(0, 5))
        high = low + rng.randint(1, 6 - int(low))
        assert min(layers.clearance(y, low, high), 0.5) == min(
            brute_clearance(y, low, high, points), 0.5)
