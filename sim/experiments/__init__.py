"""Experiments: replications of scenarios, pools and Dask, automatic replications, paired
comparisons."""
