"""Directed-graph helpers for lineage: reachability, cycles and a layered layout.

Edges are ``(source, target)`` pairs of node names. Lineage can hold cycles, so nothing here
recurses or follows edges without a visited set: every function terminates on any input.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

Edge = tuple[str, str]


@dataclass(frozen=True)
class Cycle:
    """Nodes that reach each other through edges.

    Attributes:
        nodes: The members (one strongly connected component), sorted.
        path: One shortest closed walk through the first member, that member repeated last.
    """

    nodes: tuple[str, ...]
    path: tuple[str, ...]

    def describe(self) -> str:
        """``a → b → a``, for a warning line."""
        return " → ".join(self.path)


@dataclass(frozen=True)
class Point:
    """A node's position: ``x`` is its layer (depth from the sources), ``y`` its row."""

    x: float
    y: float


def adjacency(edges: Iterable[Edge], *, reverse: bool = False) -> dict[str, list[str]]:
    """Successors of each node (predecessors when ``reverse``), in edge order."""
    out: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        a, b = (target, source) if reverse else (source, target)
        out[a].append(b)
    return dict(out)


def reach(successors: Mapping[str, list[str]], starts: Iterable[str]) -> set[str]:
    """Nodes reachable from ``starts`` by one or more edges (a start only if on a cycle)."""
    seen: set[str] = set()
    queue = deque(starts)
    while queue:
        for nxt in successors.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def components(nodes: Iterable[str], edges: Iterable[Edge]) -> list[list[str]]:
    """Strongly connected components (members sorted), sinks first.

    Iterative Tarjan, so a long lineage chain cannot hit Python's recursion limit.
    """
    successors = adjacency(edges)
    order = sorted(set(nodes) | set(successors) | {t for ts in successors.values() for t in ts})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = itertools.count()
    work: list[tuple[str, Iterator[str]]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        work.append((node, iter(successors.get(node, ()))))

    for root in order:
        if root in index:
            continue
        visit(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    members: list[str] = []
                    while not members or members[-1] != node:
                        members.append(stack.pop())
                        on_stack.discard(members[-1])
                    out.append(sorted(members))
            elif child not in index:
                visit(child)
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def find_cycles(nodes: Iterable[str], edges: Iterable[Edge]) -> tuple[Cycle, ...]:
    """Every component of more than one node, or of one node with a self-loop, sorted."""
    pairs = list(edges)
    successors = adjacency(pairs)
    loops = {s for s, t in pairs if s == t}
    cycles = [Cycle(tuple(members), _closed_walk(members[0], set(members), successors))
              for members in components(nodes, pairs)
              if len(members) > 1 or members[0] in loops]
    return tuple(sorted(cycles, key=lambda c: c.nodes))


def _closed_walk(start: str, members: set[str], successors: Mapping[str, list[str]]
                 ) -> tuple[str, ...]:
    """Shortest walk from ``start`` back to itself inside its component (breadth first)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(successors.get(node, ())):
            if nxt == start:
                back = [node]
                while back[-1] != start:
                    back.append(parent[back[-1]])
                return (*reversed(back), start)
            if nxt in members and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return (start,)


def layers(nodes: Iterable[str], edges: Iterable[Edge], *,
           align_sinks: bool = False) -> dict[str, int]:
    """Layer of each node, counted from the sources; a cycle counts as one node.

    A node sits one layer after its deepest predecessor (longest path), then moves right up to
    one layer before its nearest successor, so an edge does not cross a layer it could avoid.
    Sources stay in layer 0. With ``align_sinks`` every sink that has a predecessor moves to
    the last layer. Computed on the condensation (components collapsed), which has no
    cycles, so it ends.
    """
    pairs = list(edges)
    comps = components(nodes, pairs)
    comp_of = {m: i for i, members in enumerate(comps) for m in members}
    into: dict[int, set[int]] = defaultdict(set)
    out_of: dict[int, set[int]] = defaultdict(set)
    for s, t in pairs:
        if comp_of[s] != comp_of[t]:
            into[comp_of[t]].add(comp_of[s])
            out_of[comp_of[s]].add(comp_of[t])
    # Tarjan emits sinks first, so reversed order is a topological order of the condensation.
    depth = dict.fromkeys(range(len(comps)), 0)
    for c in reversed(range(len(comps))):
        if into[c]:
            depth[c] = 1 + max(depth[p] for p in into[c])
    last = max(depth.values(), default=0)
    for c in range(len(comps)):  # sinks first: every successor is already final
        if into[c] and out_of[c]:
            depth[c] = max(depth[c], min(depth[t] for t in out_of[c]) - 1)
        elif into[c] and align_sinks:
            depth[c] = last
    return {m: depth[comp_of[m]] for m in comp_of}


def layout(nodes: Iterable[str], edges: Iterable[Edge],
           rank: Mapping[str, int] | None = None, *,
           align_sinks: bool = False) -> dict[str, Point]:
    """Deterministic positions: ``x`` = layer, ``y`` = row within the layer, centred on 0.

    Layers as in :func:`layers`. Layer 0 is sorted by ``rank`` then name; each later layer by
    the mean row of its predecessors (fewer crossings), then ``rank``, then name. Same input,
    same figure.
    """
    pairs = list(edges)
    depth = layers(nodes, pairs, align_sinks=align_sinks)
    rank = rank or {}
    preds = adjacency(pairs, reverse=True)
    by_layer: dict[int, list[str]] = defaultdict(list)
    for node, d in depth.items():
        by_layer[d].append(node)
    rows: dict[str, float] = {}
    out: dict[str, Point] = {}
    for d in sorted(by_layer):
        def key(node: str) -> tuple[float, int, str]:
            placed = [rows[p] for p in preds.get(node, ()) if p in rows]
            return (sum(placed) / len(placed) if placed else 0.0, rank.get(node, 0), node)

        ordered = sorted(by_layer[d], key=key)
        for i, node in enumerate(ordered):
            rows[node] = i - (len(ordered) - 1) / 2
            out[node] = Point(float(d), rows[node])
    return out
