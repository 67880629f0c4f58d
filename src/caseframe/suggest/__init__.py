"""Machine coding suggestions: methods behind one interface, selectable by name.

from caseframe.suggest import get_method
method = get_method("supervised").fit(texts, Y, codebook)
decisions = method.predict(new_texts)
"""

from caseframe.suggest.base import (
    CodeSpec,
    SuggestionMethod,
    available_methods,
    get_method,
)

__all__ = ["CodeSpec", "SuggestionMethod", "available_methods", "get_method"]
