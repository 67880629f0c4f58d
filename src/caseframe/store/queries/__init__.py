"""All SQL of caseframe, one module per aggregate (documents, codes, codings, cases, ...).

Each function takes an open `Connection` and returns plain rows, dicts or model dataclasses; it
never opens or commits a transaction (the API does, once per operation) and never imports a
feature package, the API or an interface.
"""
