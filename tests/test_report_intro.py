"""The run report's opening: which scenario, described by whom, run how."""

from __future__ import annotations

from sim.output.report import _run_intro

SCENARIO = {"description": "2015 unit: 15 social workers", "start_date": "2015-01-01",
            "horizon_years": 5, "warmup_days": 365}  # fmt: skip


def test_an_inherited_description_says_whose_it_is_and_what_changed():
    """A scenario that extends the baseline without a description of its own would open with
    the baseline's ("15 social workers") above a run with 8: the report says it is the base's
    and lists the keys set here."""
    manifest = {"scenario_name": "fewer", "seed": 1, "replications": 20,
                "extends": "/x/scenarios/baseline.toml",
                "own_keys": ["name", "staff.ongoing_social_workers.posts"]}  # fmt: skip
    intro = _run_intro(SCENARIO, manifest)
    assert "Extends baseline.toml, whose description reads" in intro
    assert "Changed here: staff.ongoing_social_workers.posts." in intro
    own = _run_intro(SCENARIO, {**manifest, "own_keys": ["name", "description"]})
    assert "Extends" not in own and "<p>2015 unit: 15 social workers</p>" in own


def test_a_comparison_does_not_describe_an_alternative_with_the_base_s_words():
    """An alternative that inherits the base's description ("15 social workers") would be
    described as the base is, above a table showing it has 12: the report says it is the
    base's description and points to the table of what differs."""
    from sim.output.comparison_report import _scenarios_section

    base = {**SCENARIO, "name": "baseline", "staff": {"posts": 15}}
    fewer = {**base, "name": "fewer", "staff": {"posts": 12}}
    own = {**fewer, "name": "own", "description": "three fewer social workers"}
    html = _scenarios_section([base, fewer, own], {})
    assert html.count("2015 unit: 15 social workers") == 1  # the base's line only
    assert "the description is inherited" in html
    assert "<p>three fewer social workers</p>" in html
    assert "staff.posts" in html  # the table of what differs


def test_a_description_set_with_set_is_the_scenario_s_own():
    """The workbench runs a draft as its base file with --set overrides, its description
    among them: that description is the draft's, not the base's, and the top sentence lists
    what changed, not the title or description again."""
    from sim.output.report import _command_line_changes

    manifest = {"scenario_name": "draft", "seed": 1, "replications": 20,
                "extends": "/x/scenarios/baseline.toml", "own_keys": ["name"],
                "command_keys": {"description": "--set description=...",
                                 "name": "--set name=draft",
                                 "ar_team.places": "--set ar_team.places=24"}}  # fmt: skip
    scenario = {**SCENARIO, "description": "24 AR places", "ar_team": {"places": 24}}
    intro = _run_intro(scenario, manifest)
    assert "whose description reads" not in intro and "<p>24 AR places</p>" in intro
    top = _command_line_changes(scenario, manifest)
    assert "<code>ar_team.places</code> = 24 (--set)" in top
    assert "description" not in top and "<code>name</code>" not in top
