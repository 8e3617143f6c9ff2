"""The household's path (docs/model.md, "Processes"): booked, first visit, investigation,
decision, hand-over, assessment of need, class, follow-ups, AR team, exit and return.

Each step is a small method named after the activity. The parts it uses are given to it
(:meth:`Pathway.attach`): the intake desk, routing, the AR team, the exit hazards and the
ledger; they call back through the methods named in their constructors.

Event economy: a household has at most one pending event, the earliest of its exit, its next
class-changing follow-up and its AR eligibility (:meth:`Pathway.schedule_next`). Re-rating a
case costs a new event only when its earliest clock moved earlier; a pending event that fires
early finds nothing due and schedules the next.
"""

from __future__ import annotations

import math
from array import array
from math import log1p
from typing import TYPE_CHECKING, Final

from ..domain import DAYS_PER_MONTH, ONGOING_EXIT_CAUSES, Barrier
from ..engine import CaseloadEnvironment
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import Settings
from ..streams import keyed_uniforms
from .exits import ExitHazards
from .follow_up import NEXT_NEED, WorkPlans
from .household import (
    D_DROPOUT,
    D_INVESTIGATION,
    D_SHORT_NEED,
    D_TRANSFER,
    INTAKE_DURATIONS,
    N_EXIT_CAUSES,
    N_UNIFORMS,
    RATED_STATES,
    U_AR_REFER,
    U_CHILDREN,
    U_DROPOUT,
    U_EXIT,
    U_NEED,
    U_ONE_TIME,
    U_REJECT,
    U_RETURN,
    U_RETURN_DAYS,
    U_SHORT,
    U_SHORT_CAUSE,
    U_YOUNG,
    HeldState,
    Household,
)
from .ledger import MonthlyLedger

if TYPE_CHECKING:
    from .ar_team import ARTeam
    from .intake import IntakeDesk
    from .routing import Routing

# One closed (or still open) episode as recorded: household, episode, barrier, district,
# young, children, start day, end day, cause, via the AR team, the class of its need.
EpisodeRecord = tuple[int, int, str, int, bool, bool, float, float, str, bool, str]
EventRecord = tuple[float, int, int, str, str]

# Final aliases: compiled, each is a C global; an imported name is a dictionary lookup per use.
_log1p: Final = log1p
_EXIT_CAUSES: Final = ONGOING_EXIT_CAUSES


class Pathway:
    """The path of every household of one replication through the unit."""

    # the parts, which call back into the path: deleted by :meth:`detach` to break the cycle
    __deletable__ = ("intake", "routing", "ar_team")
    intake: IntakeDesk
    routing: Routing
    ar_team: ARTeam

    def __init__(
        self,
        env: CaseloadEnvironment,
        params: ModelParameters,
        settings: Settings,
        hazards: ExitHazards,
        ledger: MonthlyLedger,
        replication_key: tuple[int, int],
        end: float,
        *,
        events: bool,
    ) -> None:
        self.clock = env.clock
        self.params = params
        self.settings = settings  # the settings in force (timed changes replace them, configure)
        self.split = settings.organisation.form == "split"
        self.hazards = hazards
        self.ledger = ledger
        self.replication_key = replication_key  # (seed, replication) for keyed draws
        self.end = end
        self.next_id = 0
        self.open_households: dict[Household, None] = {}
        self.entered = 0  # households that have had an episode opened (incl. the initial ones)
        self.closed_by_cause: dict[str, int] = {}
        self.episodes: list[EpisodeRecord] = []
        self.log: list[EventRecord] | None = [] if events else None
        self._waking: Household | None = None
        self.work_plans = WorkPlans(params.follow_up)
        # The parameters read at every step, looked up once: compiled, each read of a pydantic
        # model's field would be a Python attribute lookup.
        c, ip, ap, rp = params.contacts, params.intake, params.ar_programme, params.returns
        self.young_share, self.children_share = c.young_share, c.children_share
        self.intake_draws = [(name, getattr(ip, name), k) for name, k in INTAKE_DURATIONS]
        self.dropout_share = ip.dropout_share
        self.rejected_share = ip.rejected_share
        self.short_need_share: dict[Barrier, float] = dict(ip.short_need_share)
        self.one_time_share = ip.one_time_share
        self.second_assessment_hours = ip.second_assessment_hours
        # the bounds of the uniform for need A and for A or B, by barrier
        self.need_bounds = {
            b: (s.a, s.a + s.b) for b, s in params.routing.need_class_shares.items()
        }
        self.ar_barriers = frozenset(ap.eligible_barriers)
        self.ar_wait_days = ap.min_months_on_assistance * DAYS_PER_MONTH
        self.ar_referral_share = ap.referral_share
        self.return_share: dict[str, float] = rp.probability.model_dump()
        self.return_delay = {name: getattr(rp.delay_days, name) for name in self.return_share}

    def configure(self, settings: Settings) -> None:
        """The settings in force from now on (a timed change)."""
        self.settings = settings
        self.split = settings.organisation.form == "split"

    def attach(self, intake: IntakeDesk, routing: Routing, ar_team: ARTeam) -> None:
        """The parts the path hands households to (built with this path's callbacks)."""
        self.intake, self.routing, self.ar_team = intake, routing, ar_team

    def detach(self) -> None:
        """Drop the parts (a finished run: their callbacks and the path point at each other)."""
        del self.intake, self.routing, self.ar_team

    def log_event(self, hh: Household, event: str, detail: str, at: float | None = None) -> None:
        """Append to the per-household event log (only when asked for with ``events=True``);
        ``at`` is the time of an event recorded after it happened (a drop-out)."""
        if self.log is not None:
            day = self.clock.now if at is None else at
            self.log.append((day, hh.id, hh.episode, event, detail))

    # arrival and intake ---------------------------------------------------------------------
    def new_household(
        self,
        district: int,
        barrier: Barrier,
        uniforms: array[float],
        hh_id: int | None = None,
        intake_days: array[float] | None = None,
    ) -> Household:
        if intake_days is None:
            intake_days = self.reached_intake_days(uniforms, barrier)
        if hh_id is None:
            hh_id = self.next_id
            self.next_id += 1
        return Household(
            id=hh_id,
            episode=1,
            district=district,
            barrier=barrier,
            young=uniforms[U_YOUNG] < self.young_share,
            children=uniforms[U_CHILDREN] < self.children_share,
            uniforms=uniforms,
            intake_days=intake_days,
        )

    def reached_intake_days(self, uniforms: array[float], barrier: Barrier) -> array[float]:
        """The intake durations of a household made here (a return), as
        :func:`~sim.model.contacts.intake_durations` makes an arriving one's: those its path
        can reach, as its uniforms decide, and NaN for the others, which are never read (a
        gamma quantile is costly: drawing all five took a return about 5 µs, step 51)."""
        dropout = uniforms[U_DROPOUT] < self.dropout_share
        decided = not dropout and uniforms[U_REJECT] >= self.rejected_share
        short = decided and uniforms[U_SHORT] < self.short_need_share[barrier]
        reached = {
            "dropout_days": dropout,
            "first_visit_work_days": True,
            "investigation_days": not dropout,
            "short_need_days": short,
            "transfer_days": decided and not short,
        }
        return array(
            "d",
            [
                dist.draw(uniforms[k]) if reached[name] else math.nan
                for name, dist, k in self.intake_draws
            ],
        )

    def arrive(
        self, district: int, barrier: Barrier, uniforms: array[float], intake_days: array[float]
    ) -> None:
        """A booked contact arrives as a household."""
        self.book_first_visit(self.new_household(district, barrier, uniforms, None, intake_days))

    def book_first_visit(self, hh: Household) -> None:
        """Screening booked the household: it waits for a first visit, or drops out first."""
        hh.booked_day = self.clock.now
        self.ledger.flows.booked += 1
        self.log_event(hh, "booked", hh.barrier)
        if hh.uniforms[U_DROPOUT] < self.dropout_share:
            hh.dropout_day = self.clock.now + hh.intake_days[D_DROPOUT]
        self.intake.book(hh)

    def drop_out(self, hh: Household) -> None:
        """The application is never completed (seed 004: booked 884, opened 539): the
        household gave up at ``dropout_day`` while waiting for its first visit."""
        self.ledger.flows.dropped_out += 1
        self._end_application(hh, "dropped_out", "before first visit", at=hh.dropout_day)

    def _end_application(
        self, hh: Household, outcome: str, detail: str, at: float | None = None
    ) -> None:
        """The application ends without a case (dropped out or rejected)."""
        hh.closed = True
        self.log_event(hh, outcome, detail, at)

    def first_visit_started(self, hh: Household, wait: float) -> None:
        flows = self.ledger.flows
        flows.first_visits += 1
        flows.first_visit_wait_sum += wait

    def first_visit_done(self, hh: Household) -> None:
        if hh.uniforms[U_DROPOUT] < self.dropout_share:
            # visited but never completed the application
            self.ledger.flows.dropped_out += 1
            self._end_application(hh, "dropped_out", "after first visit")
            return
        if self.log is not None:
            self.log_event(hh, "first_visit", f"waited {self.clock.now - hh.booked_day:.1f} days")
        self.clock.call_later_2(hh.intake_days[D_INVESTIGATION], _DECIDE, self, hh)

    def decide(self, hh: Household) -> None:
        """The decision: rejected, a short need kept at intake, or a long need going on."""
        if hh.uniforms[U_REJECT] < self.rejected_share:
            self.ledger.flows.rejected += 1
            self._end_application(hh, "rejected", "")
            return
        self.open_case(hh)
        self.log_event(hh, "granted", "")
        if hh.uniforms[U_SHORT] < self.short_need_share[hh.barrier]:
            self.set_held(hh, "intake")
            self.clock.call_later_2(hh.intake_days[D_SHORT_NEED], _CLOSE_SHORT_NEED, self, hh)
            return
        if self.split:
            days = hh.intake_days[D_TRANSFER]
            self.set_held(hh, "transfer", until=self.clock.now + days)  # re-rated at hand-over
            self.clock.call_later_2(days, _TRANSFER, self, hh)
        else:
            self.assess_need(hh)

    def open_case(self, hh: Household, elapsed_days: float = 0.0, *, initial: bool = False) -> None:
        """The episode opens (granted). ``initial`` cases were open before day 0."""
        now = self.clock.now
        self.open_households[hh] = None
        hh.granted_day = now - elapsed_days
        hh.rated_day = now
        hh.work_clock_at_rating = self.hazards.work_clock.at(now)
        for k in range(N_EXIT_CAUSES):
            hh.start_exit_clock(k, -_log1p(-hh.uniforms[U_EXIT + k]))
        self.ledger.case_opened(now, hh, initial=initial)
        self.entered += 1
        if hh.barrier in self.ar_barriers:
            wait = max(self.ar_wait_days - elapsed_days, 0.0)
            hh.ar_eligible_day = now + wait
        # no event yet: the caller places the case (set_held), which schedules its clocks

    def close_short_need(self, hh: Household) -> None:
        if hh.closed:
            return
        if hh.uniforms[U_ONE_TIME] < self.one_time_share:
            self.close(hh, "one_time")
            return
        self.close(hh, self.hazards.short_need_cause(hh, hh.uniforms[U_SHORT_CAUSE]))

    def transfer(self, hh: Household) -> None:
        """Hand-over from intake to the income-support unit (split organisation only): the
        new handler assesses the case again, and the case is new to it."""
        if hh.closed:
            return
        self.ledger.flows.transferred += 1
        self.routing.handed_over_from_intake(hh)
        self.assess_need(hh, self.second_assessment_hours)

    def handed_over(self, hh: Household) -> None:
        """The case changed handler: continuity is lost for a while (sim.model.exits)."""
        hh.continuity_until = self.clock.now + self.hazards.continuity_days

    def assess_need(self, hh: Household, arrival_hours: float = 0.0) -> None:
        a, a_or_b = self.need_bounds[hh.barrier]
        u = hh.uniforms[U_NEED]
        hh.need = "a" if u < a else ("b" if u < a_or_b else "c")
        self.log_event(hh, "need", hh.need)
        if hh.barrier == "unemployment":
            # Every adult with unemployment as barrier is referred to Jobbtorg (seed 003); the
            # effect is the work-exit multiplier ``jobcentre_multiplier_work``.
            self.ledger.flows.jobcentre_referrals += 1
            self.log_event(hh, "jobcentre_referral", "")
        self.routing.route(hh, arrival_hours)

    # holding and follow-ups -----------------------------------------------------------------
    def set_held(self, hh: Household, held: HeldState, until: float = -math.inf) -> None:
        """Change the class a case is held in; its exit clocks are re-rated (``until``: the
        time by which the case will be re-rated anyway, see :meth:`ExitHazards.rate`)."""
        self.ledger.held_changed(hh.held, held)
        hh.held = held
        if self.log is not None:
            self.log_event(hh, "held", held)
        if held != "intake":
            self.hazards.rate(hh, self.clock.now, until)
        self.work_plans.plan(hh, self.clock.now)
        self.schedule_next(hh)

    def follow_up_change(self, hh: Household) -> None:
        """A follow-up moves the case: progress (A->B, B->C) or deviation (C->B)."""
        hh.need = NEXT_NEED[hh.held]
        self.log_event(hh, "need", hh.need)
        self.routing.route(hh)

    def rerate(self, hh: Household) -> None:
        """Re-rate the exit clocks of a case whose circumstances changed (if it has clocks)."""
        if not hh.closed and hh.held in RATED_STATES:
            self.hazards.rate(hh, self.clock.now)
            self.schedule_next(hh)

    # the one pending event --------------------------------------------------------------------
    def schedule_next(self, hh: Household) -> None:
        """Make sure the household's one pending event fires no later than its earliest clock.

        If the pending event fires earlier than needed (a clock moved later), it is kept: it
        wakes the household, finds nothing due and schedules the next. So a re-rated case costs
        a new event only when its earliest clock moved earlier; the old event then goes stale
        (its token no longer matches). While the household itself is being woken, scheduling
        waits until its handler is done.
        """
        if hh is self._waking:
            return
        t = hh.earliest_clock()
        if t >= hh.wake_day or t >= self.end + 1:
            return
        hh.wake_token += 1
        hh.wake_day = t
        self.clock.call_later_3(max(t - self.clock.now, 0.0), _WAKE, self, hh, hh.wake_token)

    def _wake(self, hh: Household, token: int) -> None:
        """The household's earliest clock ran out: AR eligibility, a follow-up change or an
        exit (in that order when they coincide)."""
        if hh.closed or token != hh.wake_token:
            return
        due, hh.wake_day = hh.wake_day, math.inf
        t = hh.earliest_clock()
        if t > due:  # woken early: the clock that was due moved later
            self.schedule_next(hh)
            return
        self._waking = hh
        try:
            if hh.ar_eligible_day == t:
                hh.ar_eligible_day = math.inf
                self.ar_eligibility(hh)
            elif hh.follow_up_day == t:
                hh.follow_up_day = math.inf
                self.follow_up(hh)
            else:
                self.exit_candidate(hh)
        finally:
            self._waking = None
        if not hh.closed:
            self.schedule_next(hh)

    def follow_up(self, hh: Household) -> None:
        """A follow-up at which the plan would move the case, if it takes place: its handler
        delivers the share r of planned follow-ups, so it does with probability r; if not,
        the plan's next move is drawn from here."""
        share = self.routing.delivered_share(hh)
        if share < 1.0 and hh.fresh_uniform() >= share:
            self.work_plans.plan(hh, self.clock.now)
            return
        self.follow_up_change(hh)

    def exit_candidate(self, hh: Household) -> None:
        """An exit clock ran out: the case closes, unless the contact it gets now makes the
        candidate fail (thinning, :meth:`ExitHazards.acceptance`)."""
        k = hh.exit_cause_index
        hh.exit_day = math.inf
        now = self.clock.now
        f = self.hazards.acceptance(hh, k, self.routing.delivered_share(hh), now)
        if f < 1.0 and hh.fresh_uniform() >= f:
            self.hazards.renew(hh, k, now, hh.fresh_uniform())
            return
        self.close(hh, _EXIT_CAUSES[k])

    def ar_eligibility(self, hh: Household) -> None:
        """Long enough on assistance with an eligible barrier: referred to the AR team or not."""
        if hh.programme:
            return
        if hh.uniforms[U_AR_REFER] < self.ar_referral_share:
            self.ar_team.refer(hh)

    # exit and return --------------------------------------------------------------------------
    def close_via_ar(self, hh: Household, cause: str) -> None:
        """A successful AR programme closes the case (work or another benefit)."""
        self.close(hh, cause, via_ar=True)

    def close(self, hh: Household, cause: str, *, via_ar: bool = False) -> None:
        """The case closes (avslut) with ``cause``; the household may come back later."""
        now = self.clock.now
        hh.closed = True
        hh.wake_token += 1  # the pending event, if any, goes stale
        if hh.programme:
            self.ar_team.leave(hh)
        if hh.held in ("a", "b", "c", "waiting"):
            self.routing.leave(hh)
        self.ledger.case_closed(now, hh, cause)
        self.open_households.pop(hh, None)
        self.closed_by_cause[cause] = self.closed_by_cause.get(cause, 0) + 1
        self.log_event(hh, "exit", cause)
        self.episodes.append(self.episode_record(hh, now, cause, via_ar))
        key = "ar_team" if via_ar else cause
        if hh.uniforms[U_RETURN] < self.return_share[key]:
            delay = self.return_delay[key].draw(hh.uniforms[U_RETURN_DAYS])
            if now + delay < self.end:
                self.clock.call_later_2(delay, _RETURN_CONTACT, self, hh)

    @staticmethod
    def episode_record(hh: Household, close_day: float, cause: str, via_ar: bool) -> EpisodeRecord:
        return (
            hh.id,
            hh.episode,
            hh.barrier,
            hh.district,
            hh.young,
            hh.children,
            hh.granted_day,
            close_day,
            cause,
            via_ar,
            hh.need,
        )

    def open_episode_records(self) -> list[EpisodeRecord]:
        """The episodes still open at the end, as records without an end."""
        return [self.episode_record(hh, math.nan, "", False) for hh in self.open_households]

    def return_contact(self, old: Household) -> None:
        """A closed household applies again: a new episode with its own draws."""
        # keyed by household and episode: the same draws whatever order returns come in
        seed, replication = self.replication_key
        u = keyed_uniforms(seed, replication, "returns", (old.id, old.episode), N_UNIFORMS)
        hh = self.new_household(old.district, old.barrier, u, hh_id=old.id)
        hh.episode = old.episode + 1
        hh.young, hh.children = old.young, old.children
        flows = self.ledger.flows
        flows.contacts += 1
        flows.returns += 1
        self.log_event(hh, "returned", "")
        self.book_first_visit(hh)


# Handlers queued unbound, with their object as first argument: compiled, naming a bound method
# (self._wake) makes a new method object through attribute lookup at every call queued.
_WAKE: Final = Pathway._wake
_DECIDE: Final = Pathway.decide
_CLOSE_SHORT_NEED: Final = Pathway.close_short_need
_TRANSFER: Final = Pathway.transfer
_RETURN_CONTACT: Final = Pathway.return_contact
