"""A safe arithmetic evaluator (no ``eval``) for the ``calculate`` tool."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

_ALLOWED_CHARS = frozenset("0123456789+-*/(). ")
_MAX_EXPONENT = 64
_MAX_LENGTH = 500

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}


class CalculationError(ValueError):
    """The expression is not plain arithmetic or cannot be computed."""


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _eval(node.operand)
        return value if isinstance(node.op, ast.UAdd) else -value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > _MAX_EXPONENT or abs(left) > 1e6):
            raise CalculationError("Exponent too large")
        return _BINARY[type(node.op)](left, right)
    raise CalculationError("Only numbers, + - * / and parentheses are allowed")


def calculate(expression: str) -> str:
    """Evaluate arithmetic like the benchmark's ``calculate``: the result rounded to 2 decimals.

    Args:
        expression: Numbers, ``+ - * /``, parentheses and spaces.

    Returns:
        ``str(round(float(result), 2))``, e.g. ``"4.0"`` for ``2 + 2``.

    Raises:
        CalculationError: Other characters, bad syntax, division by zero or overflow.
    """
    if not expression.strip() or len(expression) > _MAX_LENGTH:
        raise CalculationError("Give a non-empty expression of at most 500 characters")
    if not set(expression) <= _ALLOWED_CHARS:
        raise CalculationError("Invalid characters in expression")
    try:
        tree = ast.parse(expression, mode="eval")
        return str(round(float(_eval(tree)), 2))
    except SyntaxError:
        raise CalculationError("The expression is not valid arithmetic") from None
    except ZeroDivisionError:
        raise CalculationError("Division by zero") from None
    except OverflowError:
        raise CalculationError("The result is too large") from None
