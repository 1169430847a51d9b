"""Strongly connected components of a directed graph: the one place the engine finds cycles.

Used by the deploy-time lint (loops of sequence flows with no wait state) and
by the test that the engine's modules import each other without cycles.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator

__all__ = ["strongly_connected"]


def strongly_connected(nodes: Collection[str], successors: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """Every strongly connected component of the graph on ``nodes``, each sorted, in Tarjan's order.

    ``successors(node)`` gives a node's out-edges; those leading outside ``nodes`` are ignored. Roots are
    taken in sorted order and edges in the order ``successors`` gives them. Iterative, so a graph of
    thousands of nodes cannot exhaust the stack. A single node is a component of its own whether or not
    it has an edge to itself: the caller tells a self-loop apart.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for child in edges:
                if child not in nodes:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return found
