"""Adapters to the outside world: MCP (server and client), A2A, models, the HTTP connector.

Owns: turning protocol messages into engine commands and engine state into
protocol answers, and calling external systems on behalf of jobs.

Does not know: the hub's wiring (HTTP routes, settings, CLI). Each adapter
takes the ``engine.Engine`` and ``registry.Registry`` it works on as
arguments, and the caller's identity as a ``registry.Principal``.
"""
