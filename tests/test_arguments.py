"""The argument-kind decorator of the CE_ functions (customer_equity.excel.arguments)."""

import ast
import inspect

import pytest

from customer_equity.excel import arguments, functions


def test_a_function_must_give_a_kind_for_each_argument():
    with pytest.raises(TypeError, match="a kind for each argument"):
        @arguments.excel_function(rate=arguments.Block("Discount rate."))
        def ce_two(rate, values):
            return rate


def test_function_bodies_leave_the_reading_to_the_kinds():
    """No CE_ function reads cells itself, and each body is a few lines (the kinds read)."""
    tree = ast.parse(inspect.getsource(functions))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "cells" not in names and "reading" not in names
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("ce_"):
            body = node.body[1:]  # after the docstring
            assert sum(b.end_lineno - b.lineno + 1 for b in body) <= 4, node.name
