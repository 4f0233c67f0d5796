"""The files door: tables of any size in files (CSV, Parquet, xlsx), streamed in batches on
this machine or on a Dask cluster, through the same core as Excel.

==================  ======================================================================
module              what it holds
==================  ======================================================================
:mod:`.inputs`      readers: a customer table or a transaction log from a file, in batches
:mod:`.outputs`     writers: per-customer results and summaries (CSV, Parquet, xlsx, JSON)
:mod:`.batch`       ``measure`` on a file: the passes over the batches, exact as in memory
:mod:`.forecast`    ``forecast`` on a transaction log: summary, fits, forecasts, equity
:mod:`.decisions`   structure comparison, what-if, retention watch and prospects on files
==================  ======================================================================

Every job returns its result; the command (:mod:`customer_equity.cli`) prints it.
"""
