"""The parser's one seam to FEEL: is this text a FEEL expression?

The parser only checks syntax so that a typo is reported at deploy time with
its line; it keeps expressions as text and leaves compiling for evaluation to
the runtime's cache.
"""

from __future__ import annotations

from functools import lru_cache

from engine.feel import FeelError, FeelSyntaxError, compile_expression


@lru_cache(maxsize=4096)
def feel_problem(source: str) -> str | None:
    """Why ``source`` (FEEL without the leading ``=``) does not compile, or None when it does."""
    if not source.strip():
        return "expression is empty"
    try:
        compile_expression(source)
    except FeelSyntaxError as exc:
        return exc.message  # it says where: "unexpected '=' at column 4 in 'x == 1'"
    except FeelError as exc:  # a compile-time limit, such as nesting depth
        return exc.message
    except RecursionError:
        return "expression is nested too deeply"
    return None
