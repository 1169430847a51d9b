"""The ``agenthub`` command groups that live in modules of their own.

Each module exports a ``typer.Typer`` (``app``) or plain command functions;
``hub.cli`` adds them to the main app. They share ``hub.console`` (the
``--db`` option, ``fail``) rather than importing ``hub.cli``, which imports them.
"""
