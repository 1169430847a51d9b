"""Variables, names with spaces, paths, function calls and named arguments."""

from collections import ChainMap
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from engine.feel import compile_expression, evaluate


def feel(source: str, **variables: Any) -> Any:
    return evaluate(source, variables)


def test_variables_are_converted_from_json_values() -> None:
    assert feel("x + 1", x=1) == Decimal(2)
    assert feel("x * 2", x=0.1) == Decimal("0.2")
    assert feel("flag", flag=True) is True


def test_a_missing_variable_is_null() -> None:
    assert feel("missing") is None
    assert feel("missing + 1") is None
    assert feel("missing = null") is True


def test_names_with_spaces_are_looked_up_as_one_name() -> None:
    assert evaluate("Monthly Salary * 12", {"Monthly Salary": 1000}) == Decimal(12000)
    assert evaluate("Employee Record.first name", {"Employee Record": {"first name": "Ada"}}) == "Ada"


def test_names_that_contain_keywords_parse_when_the_caller_names_them() -> None:
    expr = compile_expression("Rock and Roll + 1", frozenset({"Rock and Roll"}))
    assert expr.evaluate({"Rock and Roll": 1}) == Decimal(2)


def test_backquoted_names_may_contain_any_character() -> None:
    assert evaluate("`order-id` + 1", {"order-id": 41}) == Decimal(42)


def test_paths_read_nested_contexts_and_project_over_lists() -> None:
    assert feel("a.b.c", a={"b": {"c": 3}}) == Decimal(3)
    assert feel("a.missing", a={"b": 1}) is None
    assert feel("a.b", a=None) is None
    assert feel("people.name", people=[{"name": "a"}, {"name": "b"}]) == ["a", "b"]
    assert feel("{a: {b: 2}}.a.b") == Decimal(2)


def test_variables_mapping_is_read_lazily_not_copied() -> None:
    class Watching(Mapping[str, Any]):
        def __init__(self) -> None:
            self.read: list[str] = []

        def __getitem__(self, key: str) -> Any:
            self.read.append(key)
            if key == "x":
                return 1
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            raise AssertionError("the mapping must not be iterated")

        def __len__(self) -> int:
            raise AssertionError("the mapping must not be sized")

    scope = Watching()
    assert evaluate("x + 1", scope) == Decimal(2)
    assert evaluate("x + 1", ChainMap({}, scope)) == Decimal(2)  # type: ignore[arg-type]


def test_expression_reports_the_free_names_it_reads() -> None:
    expr = compile_expression("a + b.c + count(items) + sum(for i in xs return i)")
    assert expr.names == frozenset({"a", "b", "items", "xs"})


def test_builtin_functions_take_positional_and_named_arguments() -> None:
    assert feel('substring("abc", 2)') == "bc"
    assert feel('substring(string: "abcdef", start position: 2, length: 3)') == "bcd"
    assert feel('substring(start position: 2, string: "abc")') == "bc"


def test_unknown_named_argument_or_wrong_arity_gives_null() -> None:
    assert feel('substring(text: "abc", start position: 2)') is None
    assert feel("abs(1, 2)") is None
    assert feel("abs()") is None
    assert feel('upper case(1)') is None
    assert feel("no such thing(1)") is None


def test_functions_defined_in_feel_can_be_called_and_recurse() -> None:
    assert feel("(function(a, b) a + b)(1, 2)") == Decimal(3)
    assert feel("{f: function(n) if n <= 1 then 1 else n * f(n - 1), r: f(5)}.r") == Decimal(120)
    assert feel("{add: function(a, b) a + b}.add(b: 2, a: 1)") == Decimal(3)


def test_a_function_parameter_of_the_wrong_declared_type_gives_null() -> None:
    assert feel('(function(n: number) n + 1)("x")') is None
    assert feel("(function(n: number) n + 1)(1)") == Decimal(2)


def test_a_variable_may_hold_a_function_that_shadows_a_builtin() -> None:
    double = evaluate("function(x) x * 2", {})
    assert evaluate("abs(3)", {"abs": double}) == Decimal(6)
