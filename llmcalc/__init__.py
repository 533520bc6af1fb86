"""llmcalc: exact parameter counts of LLM architectures from YAML specs.

    >>> import llmcalc
    >>> llmcalc.count_params(llmcalc.load("gpt2-small")).total
    124439808
"""

from .errors import LlmcalcError, SpecError, UnknownModelError
from .model import ModelSpec
from .params import ParamCount, ParamRow, count_params
from .spec import builtin_names, load, load_all, load_file
from .verify import verify

__all__ = [
    "LlmcalcError", "ModelSpec", "ParamCount", "ParamRow", "SpecError", "UnknownModelError",
    "builtin_names", "count_params", "load", "load_all", "load_file", "verify",
]
__version__ = "0.1.0"
