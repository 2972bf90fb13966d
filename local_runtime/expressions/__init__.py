"""ADF's expression language: ``@`` expressions, ``@{...}`` interpolation and the built-in functions.

    from local_runtime.expressions import evaluate_value, ExpressionContext
    evaluate_value({"path": "@concat(pipeline().parameters.root, '/', item())"}, context)

One module per phase: :mod:`.lexer`, :mod:`.parser` (to :mod:`.ast`), :mod:`.evaluator`, with the
function registry in :mod:`.functions` and the functions themselves in :mod:`.library`.
"""
from .context import ExpressionContext
from .errors import EvaluationError, ExpressionError, LexError, ParseError
from .evaluator import Evaluator, evaluate_expression, evaluate_value
from .functions import REGISTRY, FunctionRegistry, FunctionSpec, function
from .parser import parse_expression, parse_value

__all__ = [
    "ExpressionContext", "ExpressionError", "LexError", "ParseError", "EvaluationError",
    "evaluate_value", "evaluate_expression", "Evaluator", "parse_value", "parse_expression",
    "REGISTRY", "FunctionRegistry", "FunctionSpec", "function",
]
