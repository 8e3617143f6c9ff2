"""Optimisation: the best staffing under a budget (``caseflow optimise SPEC``).

``spec`` reads and checks the optimisation spec, ``candidates`` turns a choice of decision
values into a scenario and evaluates it under common random numbers, ``search`` drives
Optuna over the space, ``selection`` is the ranking-and-selection procedure (KN++) that picks
the best finalist with a stated probability of correct selection, and ``robust`` compares the
finalists over posterior draws. Optuna is imported only by ``search``.
"""
