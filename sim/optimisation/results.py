"""An optimisation's results folder: what ``caseflow optimise`` and the workbench write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .search import OptimisationResult


def write_optimisation_folder(
    folder: Path,
    result: OptimisationResult,
    *,
    command: str,
    clock: Any,
    workers: int | None,
    study: Path,
) -> None:
    """The optimisation's results folder (through :mod:`sim.output.folders`): the tables, each
    finalist as a scenario file, the report and the manifest; ``command`` and ``clock`` as
    the manifest records them, ``study`` the Optuna journal."""
    from ..output.folders import folder_manifest, write_optimisation
    from ..output.formatting import toml_value
    from ..output.optimisation_report import render_optimisation_report
    from .search import candidates_table, pareto_table, selection_table

    loaded = result.loaded
    spec = loaded.spec
    candidates = candidates_table(result)
    pareto = pareto_table(result)
    selection = selection_table(result)
    sel = result.selection
    content: dict[str, Any] = {
        "optimisation_of": str(loaded.path),
        "name": spec.name,
        "description": spec.description,
        "spec": spec.model_dump(mode="json"),
        "base_scenario_file": str(loaded.base_path),
        "base_scenario": loaded.base.as_dict(),
        "seed": loaded.base.scenario.seed,
        "replications_per_candidate": spec.replications,
        "bounded_kpis": [b.kpi for b in spec.constraints.kpis],
        "search": {
            "sampler": result.sampler,
            "study": result.study_name,
            "journal": str(study.resolve()),
            "trials": result.trials,
            "new_trials": result.new_trials,
            "distinct_candidates": len(result.evaluated),
            "replications_run_here": result.replications_run,
        },
        "selection": None
        if sel is None
        else {
            "procedure": "KN++ (Kim & Nelson 2001, 2006)",
            "objective": loaded.primary.kpi,
            "chosen": result.chosen.candidate.resolved.name if result.chosen else None,
            "probability_correct_selection": sel.probability,
            "indifference_zone": sel.indifference_zone,
            "guaranteed": sel.guaranteed,
            "replications": list(sel.replications),
        },
        "posterior_draws": 0 if result.posterior is None else int(result.posterior["draws"][0]),
        "notes": result.notes,
    }
    manifest = folder_manifest(content, command=command, clock=clock, workers=workers)
    variables = [v.key for v in spec.variables]
    report = render_optimisation_report(
        candidates=candidates,
        pareto=pareto,
        selection=selection,
        differences=result.differences,
        posterior=result.posterior,
        objectives=[(o.kpi, o.direction) for o in spec.objectives],
        variables=variables,
        budget=spec.constraints.staff_budget_sek,
        notes=result.notes,
        manifest=manifest,
    )
    chosen = []
    for rank, finalist in enumerate(_in_order(result), start=1):
        name = finalist.candidate.resolved.name
        changes = "".join(
            f"#   {key} = {toml_value(value)}\n" for key, value in finalist.candidate.values.items()
        )
        header = (
            f"# From `{command}`: finalist {rank}"
            f"{' (chosen)' if finalist is result.chosen else ''}. It is {loaded.base_path.name}"
            f" with\n{changes}"
        )
        chosen.append((f"{rank:02d}_{name}", finalist.candidate.resolved, header))
    write_optimisation(
        folder,
        {
            "candidates.csv": candidates,
            "pareto.csv": pareto,
            "selection.csv": selection,
            "differences.csv": result.differences,
            "posterior.csv": result.posterior,
        },
        chosen,
        report,
        manifest,
    )


def _in_order(result: OptimisationResult) -> list[Any]:
    """The finalists, the chosen one first."""
    chosen = result.chosen
    rest = [f for f in result.finalists if f is not chosen]
    return ([chosen] if chosen is not None else []) + rest
