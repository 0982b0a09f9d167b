"""Plotting and summaries of HGCA-Sim results files (the HDF5 layout of docs/RESULTS.md).

Entry points, run from the repository root with the system Python:

    /usr/bin/python3 -m analysis.plot RESULTS.h5 --out DIR
    /usr/bin/python3 -m analysis.summary RESULTS.h5
"""
