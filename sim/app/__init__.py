"""The planners' workbench: a local web page (Streamlit) to build, run and compare scenarios.

The page (:mod:`sim.app.page`) is a thin layer over the library: a scenario is built from a
base file and the planner's edits (:mod:`sim.app.draft`), checked by the same loader and
messages as the files, run on a process pool the app keeps warm (:mod:`sim.app.workbench`)
and saved by the same writers as the command line; downloads and earlier results are
:mod:`sim.app.downloads` and :mod:`sim.app.history`. Only :mod:`sim.app.page` imports
Streamlit.
"""
