"""Batch work over large comment streams on Dask: train once, suggest and pseudonymise in
partitions (resumable), summarise by group, bring a sample back for review. docs/cluster.md.

Modules: `training` (training sets, cross-validated figures), `inputs` (planning and reading
partitions of CSV/Parquet), `cluster` (the Dask client), `runner` (partitions, resume markers,
progress), `suggest_run` and `pseudonymise_run` (the per-partition work), `summary` and
`charts` (tables and the HTML page), `sample` (a stratified sample for review), `outputs`
(a finished run's summary files and review sample).
"""
