"""What a reader should know before trusting a report's figures: its warnings.

A run warns of itself (an empty start, a first-visit queue that grows out of hand, few
replications, how ``--replications auto`` did, the calibrated range left, a hand-set parameter
set). A comparison or a sweep carries the warnings
of every scenario it holds, so that the report a planner mails never says "none" while one of
its alternatives' own reports warns: warnings every scenario shares are said once, the others
name their scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..records import MONTH, column_label, kpi_label

FIRST_GUESS = "first_guess"
"""Parameter sets whose name starts so are hand-set, not fitted: the reports say so."""


SCALED_BY_CONTACTS: tuple[str, ...] = ("households",)
"""Calibrated ranges that scale with the scenario's ``organisation.contacts_scale``: a unit with
four times the reference unit's contacts holds about four times its households, with the same
behaviour per household (its staff per household are ``caseload_per_social_worker``'s)."""


def range_warnings(
    monthly: pd.DataFrame, ranges: dict[str, Any], contacts_scale: float = 1.0
) -> list[str]:
    """Warnings where the run's monthly means leave the parameter set's calibrated range (the
    households' range times the scenario's ``contacts_scale``)."""
    out = []
    run = monthly[monthly["period"] == "run"] if "period" in monthly else monthly
    for column, stated in ranges.items():
        if stated is None or column not in run:
            continue
        scaled = column in SCALED_BY_CONTACTS and contacts_scale != 1.0
        bounds = [b * contacts_scale for b in stated] if scaled else stated
        by_month = run.groupby("month")[column].mean().dropna()
        if by_month.empty:
            continue
        low, high = float(by_month.min()), float(by_month.max())
        if low < bounds[0] or high > bounds[1]:
            unit = f" {MONTH[column].unit}" if column in MONTH else ""
            range_said = f"{bounds[0]:g}–{bounds[1]:g}"
            if scaled:
                range_said = (
                    f"{bounds[0]:.0f}–{bounds[1]:.0f} ({stated[0]:g}–{stated[1]:g} times the "
                    f"scenario's contacts_scale {contacts_scale:g})"
                )
            out.append(
                f"{column_label(column)} ranges over {low:.1f}–{high:.1f}{unit} in this run "
                f"(monthly means; {column} in monthly.csv), outside {range_said}, the range the "
                "parameter set was calibrated for: the model extrapolates there."
            )
    return out


def reference_warning(scenario: dict[str, Any], ranges: dict[str, Any]) -> list[str]:
    """A warning when the scenario's ``unemployment.reference_percent`` (the rate at which the
    parameter set's rates apply) lies outside the unemployment the set was calibrated at: its
    rates then stand for another economy, and a path at that rate moves nothing. Written from
    scratch, a scenario easily sets it to the rate it studies."""
    reference = (scenario.get("unemployment") or {}).get("reference_percent")
    stated = ranges.get("unemployment_percent")
    if reference is None or not stated:
        return []
    low, high = float(stated[0]), float(stated[1])
    if low <= float(reference) <= high:
        return []
    return [
        f"unemployment.reference_percent is {float(reference):g} %, outside the "
        f"{low:g}–{high:g} % the parameter set was calibrated at. It is the rate at which the "
        "set's contact and exit rates apply, not the rate the scenario studies: set it to the "
        "set's (the shipped fits': 3.2 %, as scenarios/baseline.toml) and put the rate studied "
        "in unemployment.path; as it is, unemployment at the reference rate moves nothing."
    ]


BACKLOG_MONTHS = 3.0
"""The intake backlog warned of: more households waiting for a first visit at a month's end,
at any point of the run, than this many months of the run's mean bookings. In a steady state a
booked household then waits this long or longer on average (Little's law); a backlog that
builds and clears is not one, but its households still wait months. The baseline's queue
holds about 9 households at a month's end, an eighth of a month's bookings (a first-visit wait
of about 4 days)."""


def intake_backlog_warning(monthly: pd.DataFrame) -> list[str]:
    """A warning when booked households cannot all be visited: no intake social worker in post
    in some reported month (in every replication), or, at some month's end of the run, more
    households waiting for a first visit than :data:`BACKLOG_MONTHS` months of bookings (means
    over the replications, or in any one replication: a backlog that builds in some of them is
    lost in the mean). Such households do not reach the caseload while they wait, so it
    and its costs look low; a backlog that clears by the end (a shock that passes) counts too.
    """
    if "waiting_for_first_visit" not in monthly or "booked" not in monthly:
        return []
    run = monthly[monthly["period"] == "run"] if "period" in monthly else monthly
    if run.empty:
        return []
    by_month = run.groupby("month")
    waiting_by_month = by_month["waiting_for_first_visit"].mean().dropna()
    if waiting_by_month.empty:  # a results folder whose months lack the figure
        return []
    waiting = float(waiting_by_month.iloc[-1])
    peak_month, peak = str(waiting_by_month.idxmax()), float(waiting_by_month.max())
    bookings = float(by_month["booked"].mean().mean())
    empty = _months_without(run, "staff_in_post_intake_social_workers")
    over, replications, most = _replications_over_backlog(run)
    on_average = peak > BACKLOG_MONTHS * bookings and peak > 0
    backlog = on_average or over > 0
    if not empty and not backlog:
        return []
    months = len(by_month)
    where = "" if len(empty) == months else f" ({_listed(empty)})"
    nobody = f"No intake social worker is in post in {len(empty)} of the {months} reported months"

    def stock(households: float, verb: str) -> str:
        said = f"{households:.0f} households {verb} waiting for a first visit"
        said += " (mean over replications)"
        return f"{said}, {households / bookings:.1f} months of bookings" if bookings > 0 else said

    if peak > waiting:  # the queue was longest before the end: a shock that passed
        at = f"at the end of {peak_month} {stock(peak, 'were')}"
        at += f"; at the end of the run {waiting:.0f}"
    else:
        at = f"at the end of the run {stock(waiting, 'are')}"
    if over and (not on_average or over < replications):  # the mean hides some of it
        at += (
            f"; in {over} of the {replications} replications more households than "
            f"{BACKLOG_MONTHS:g} months of bookings waited at some month's end (up to "
            f"{most:.0f})"
        )
    what = f"{nobody}{where}; {at}." if empty else f"{at[0].upper()}{at[1:]}."
    return [
        f"{what} Households booked but never visited, or visited months late, do not reach the "
        "caseload while they wait: households, assistance paid, exits and costs are "
        "understated, because the unit as staffed cannot take its inflow. (Warned when no "
        "intake social worker is in post in a reported month, or when at some month's end more "
        f"households wait than {BACKLOG_MONTHS:g} months of the run's mean bookings, on "
        "average or in any replication: in a "
        f"steady state a booked household then waits {BACKLOG_MONTHS:g} months or more.)"
    ]


def _replications_over_backlog(run: pd.DataFrame) -> tuple[int, int, float]:
    """How many replications had, at some month's end of the run, more households waiting for
    a first visit than :data:`BACKLOG_MONTHS` months of their own mean bookings; of how many;
    and the most households waiting in those."""
    if "replication" not in run:
        return 0, 1, 0.0
    by_replication = run.groupby("replication")
    peaks = by_replication["waiting_for_first_visit"].max()
    bookings = by_replication["booked"].mean()
    over = (peaks > BACKLOG_MONTHS * bookings) & (peaks > 0)
    most = float(peaks[over].max()) if over.any() else 0.0
    return int(over.sum()), len(peaks), most


def swept_then_changed_warning(scenario: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """A sweep point's value that a ``[[changes]]`` entry sets again from a date: the point
    differs from the others only until then, which its author may not have meant."""
    from .formatting import first_change_setting, flatten, toml_value

    out = []
    for key, value in (manifest.get("sweep_point") or {}).items():
        # a change of a key the swept value sets (a swept table's other keys are left alone)
        swept = flatten(value, f"{key}.") if isinstance(value, dict) else {key: value}
        found = first_change_setting(scenario.get("changes") or [], swept)
        if found is not None:
            at, hit, changed_to = found
            out.append(
                f"The sweep sets {key} ({toml_value(value)} at this point), but [[changes]] "
                f"at {at} sets {hit} = {toml_value(changed_to)}: the swept value holds only "
                "until then, and the points differ only before it."
            )
    return out


def no_social_worker_warning(monthly: pd.DataFrame) -> list[str]:
    """A warning when no ongoing social worker is in post in some reported month (mean over the
    replications): the cases that need A or B work then have no one to work them."""
    return _nobody_in_post(
        monthly,
        "staff_in_post_ongoing_social_workers",
        "No ongoing social worker",
        "cases assessed as needing A or B work are held as C by benefit administrators or wait "
        "for their class, without work plans or follow-ups, so exits to work and studies are "
        "those of a unit without social work.",
    )


def no_administrator_warning(monthly: pd.DataFrame) -> list[str]:
    """A warning when no benefit administrator is in post in some reported month: the C cases
    then go to the ongoing social workers, whose caseload carries them."""
    return _nobody_in_post(
        monthly,
        "staff_in_post_benefit_administrators",
        "No benefit administrator",
        "class C cases are held by the ongoing social workers instead (where any are in "
        "post), whose caseload and hours needed rise with them.",
    )


def _nobody_in_post(monthly: pd.DataFrame, column: str, who: str, then: str) -> list[str]:
    run = monthly[monthly["period"] == "run"] if "period" in monthly else monthly
    empty = _months_without(run, column)
    if not empty:
        return []
    months = run["month"].nunique()
    where = "" if len(empty) == months else f" ({_listed(empty)})"
    return [f"{who} is in post in {len(empty)} of the {months} reported months{where}: {then}"]


def _months_without(run: pd.DataFrame, staff_column: str) -> list[str]:
    """The reported months in which nobody of a role is in post in any replication (its mean
    over the replications is 0); none if the month record lacks the role's column."""
    if staff_column not in run:
        return []
    staff = run.groupby("month")[staff_column].mean()
    return [str(month) for month, n in staff.items() if n == 0]


def _listed(months: list[str], most: int = 4) -> str:
    """``2016-03, 2016-04`` or ``2016-03, ... and 7 more``."""
    if len(months) <= most:
        return ", ".join(months)
    return f"{', '.join(months[:most])} and {len(months) - most} more"


def first_guess_warning(parameters_name: str, advice: str) -> list[str]:
    if not parameters_name.startswith(FIRST_GUESS):
        return []
    return ["The parameter set is a hand-set first guess, not fitted to reported flows: " + advice]


def few_replications_warning(manifest: dict[str, Any]) -> list[str]:
    replications = int(manifest.get("replications", 0) or 0)
    posterior = manifest.get("posterior")
    if isinstance(posterior, dict) and posterior.get("draws"):
        # the intervals are over the draws' means: the draws are the observations
        draws = int(posterior["draws"])
        if draws < 10:
            return [f"{draws} posterior draws: intervals over so few draws are wide and unstable."]
        size, distinct = posterior.get("sample_size"), posterior.get("distinct_draws")
        if size is not None and distinct is not None and draws > int(size):
            return [
                f"{draws} posterior draws from a sample of {size} parameter sets: {distinct} "
                "distinct. Draws are made with replacement, so with more draws than the sample "
                "holds many repeat a parameter set (each with random numbers of its own): they "
                "add runs, not parameter sets."
            ]
        return []
    if replications == 1:
        return ["One replication: there are no intervals, and no figure can be told from chance."]
    if replications < 10:
        return ["Fewer than 10 replications: intervals are wide and unstable."]
    return []


def auto_replications_note(auto: dict[str, Any] | None) -> str:
    """How many replications the automatic choice ran, when it reached its precision (not a
    warning: the report's run line and a note on the terminal say it); "" otherwise."""
    if not auto or not auto.get("reached"):
        return ""
    kpis = ", ".join(kpi_label(k) for k in auto["kpis"])
    return (
        f"Replications chosen automatically: {auto['replications_used']} run; the 95 % "
        f"intervals of {kpis} were within ±{auto['precision'] * 100:.3g} % of the mean from "
        f"{auto['solution']} on."
    )


def auto_replications_warning(auto: dict[str, Any] | None) -> list[str]:
    """The automatic choice of the number of replications (``--replications auto``) when it
    stopped at its cap before its precision was confirmed."""
    if not auto or auto.get("reached"):
        return []
    kpis = ", ".join(kpi_label(k) for k in auto["kpis"])
    within = f"±{auto['precision'] * 100:.3g} %"
    if auto.get("precise_at_cap"):
        return [
            f"Replications chosen automatically, but the cap of {auto['cap']} was reached while "
            f"the intervals of {kpis} had only just come within {within}: not yet confirmed "
            f"over {auto.get('look_ahead', 5)} more replications, as the rule asks."
        ]
    return [
        f"Replications chosen automatically, but the cap of {auto['cap']} was reached before "
        f"{kpis} were within {within}."
    ]


def without_handler_warning(monthly: pd.DataFrame) -> list[str]:
    """Cases with no handler happen only when no social worker and no administrator owning C
    cases is in post: the run should say so, not leave it in a table."""
    if "without_handler" not in monthly:
        return []
    run = monthly[monthly["period"] == "run"] if "period" in monthly else monthly
    months = run.groupby("month")["without_handler"].mean()
    months = months[months > 0]
    if months.empty:
        return []
    return [
        f"Cases without a handler in {len(months)} month(s) from {months.index.min()} (up to "
        f"{months.max():.0f} at a month's end): no ongoing social worker and no administrator "
        "owning C cases was in post, so their cases waited with no one to handle them."
    ]


def unstaffed_places_warning(scenario: dict[str, Any]) -> list[str]:
    """A warning when the AR team has more places than its employment consultants' posts can
    run (posts × ``places_per_consultant``), from the start or from a timed change: the places
    beyond have no effect (the team runs the smaller of the two), which a planner who adds
    places alone would otherwise read as "places make no difference"."""
    from ..model.ar_team import staffed_places  # the model's own rule

    keys = ("ar_team.places", "ar_team.places_per_consultant", "staff.employment_consultants.posts")
    now = {key: _setting(scenario, key) for key in keys}
    periods = [(str(scenario.get("start_date", "the start")), dict(now))]
    changes = scenario.get("changes") or []
    for change in sorted(changes, key=lambda c: str(c.get("at", ""))):
        changed = {key: _setting(change, key) for key in keys}
        if any(value is not None for value in changed.values()):
            now.update({key: value for key, value in changed.items() if value is not None})
            periods.append((str(change.get("at")), dict(now)))
    for since, values in periods:
        places, each, posts = (values[key] for key in keys)
        if not all(isinstance(v, int | float) for v in (places, each, posts)):
            continue
        runnable = staffed_places(posts, each)
        if places > runnable:
            return [
                f"The AR team has {places:g} places from {since}, but its {posts:g} employment "
                f"consultant posts run at most {runnable} ({each:g} each): the places beyond "
                "have no effect, even with every post filled (vacancies run fewer). To use "
                "them, add posts (staff.employment_consultants.posts)."
            ]
    return []


def run_warnings(
    scenario: dict[str, Any], manifest: dict[str, Any], monthly: pd.DataFrame
) -> list[str]:
    """Everything a reader should know before trusting the run's figures."""
    warnings = []
    empty = not any(scenario.get("initial_caseload", {}).get("by_class", {}).values())
    if not scenario.get("warmup_days", 0) and empty:
        warnings.append(
            "The run starts empty with no warm-up: early months understate the caseload."
        )
    warnings += intake_backlog_warning(monthly)
    warnings += no_social_worker_warning(monthly)
    warnings += no_administrator_warning(monthly)
    warnings += without_handler_warning(monthly)
    warnings += unstaffed_places_warning(scenario)
    warnings += swept_then_changed_warning(scenario, manifest)
    warnings += few_replications_warning(manifest)
    warnings += auto_replications_warning(manifest.get("replications_auto"))
    params = manifest.get("parameters", {})
    scale = float((scenario.get("organisation") or {}).get("contacts_scale", 1.0))
    warnings += reference_warning(scenario, params.get("calibrated_range") or {})
    warnings += range_warnings(monthly, params.get("calibrated_range") or {}, scale)
    warnings += first_guess_warning(
        str(params.get("name", "")), "read the figures as the model's mechanics, not as forecasts."
    )
    return warnings


#: settings that make two scenarios different units or periods rather than alternatives
SETTINGS_COMPARED = (
    ("start_date", "start date"),
    ("horizon_years", "horizon"),
    ("warmup_days", "warm-up"),
    ("organisation.districts", "districts"),
    ("organisation.contacts_scale", "contact volume (contacts_scale)"),
    ("unemployment.reference_percent", "reference unemployment"),
)


def _setting(scenario: dict[str, Any], dotted: str) -> Any:
    node: Any = scenario
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def setting_warnings(
    base_name: str,
    base: dict[str, Any],
    base_parameters: Any,
    alternatives: Sequence[tuple[str, dict[str, Any], Any]],
) -> list[str]:
    """Warnings for alternatives that differ from the base in what makes a scenario another
    unit or period (start, horizon, warm-up, districts, contact volume, reference unemployment)
    or in the parameter set: their differences then mix the alternative's change with that.
    ``alternatives``: (name, scenario as run, parameter set) of each."""
    out = []
    for name, scenario, parameters in alternatives:
        differ = [
            f"{label} ({_setting(scenario, key)!s} against {_setting(base, key)!s})"
            if key != "organisation.districts"
            else label
            for key, label in SETTINGS_COMPARED
            if _setting(scenario, key) != _setting(base, key)
        ]
        if parameters != base_parameters:
            differ.append("parameter set")
        if differ:
            out.append(
                f"{name} differs from the base {base_name} in {', '.join(differ)}: its "
                "differences are not only the effect of the alternative's change."
            )
    return out


def merged_warnings(own: Sequence[str], by_scenario: Sequence[tuple[str, list[str]]]) -> list[str]:
    """The report's own warnings, then the scenarios': each text once (any the report gives
    itself is not repeated), unprefixed when every scenario gives it, else prefixed with the
    names of the scenarios that do (six scenarios past the same unemployment were six copies
    of one warning)."""
    out = list(dict.fromkeys(own))
    givers: dict[str, list[str]] = {}  # each text, first seen first, with who gives it
    for name, warnings in by_scenario:
        for warning in dict.fromkeys(warnings):
            givers.setdefault(warning, []).append(name)
    everyone = len(by_scenario)
    for warning, names in givers.items():
        if warning in out:
            continue
        out.append(warning if len(names) == everyone else f"{', '.join(names)}: {warning}")
    return out
