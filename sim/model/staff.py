"""Staff: individual posts that are filled, left, vacant, on leave or in introduction.

Each post is a SimPy process (:func:`post_lifecycle`). A person in post leaves (turnover) or
goes on parental leave at exponential times; a vacancy is filled after ``vacancy_fill_days``;
a new hire works at ``introduction_capacity`` for ``introduction_days`` (seed 004: about 1-1.5
years). The model hears of every change through ``on_change`` and moves cases accordingly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import simpy

from ..domain import DAYS_PER_YEAR, StaffRole
from ..inputs.scenario import StaffRoleSettings
from ..streams import Streams

PostState = Literal["working", "introduction", "leave", "vacant", "abolished"]
"""Working; a new hire in introduction (reduced capacity); on parental leave; vacant (being
recruited); abolished (removed by a timed change)."""
WORKING: Final = "working"
INTRODUCTION: Final = "introduction"
LEAVE: Final = "leave"
VACANT: Final = "vacant"
ABOLISHED: Final = "abolished"


@dataclass(eq=False)
class Post:
    """One budgeted post and the person (if any) in it."""

    role: StaffRole
    index: int
    state: PostState
    settings: StaffRoleSettings
    rng: np.random.Generator
    hired_day: float = 0.0
    process: simpy.Process | None = None
    waiting: bool = False  # the post's process waits in :func:`_wait` (and may be interrupted)

    @property
    def capacity(self) -> float:
        """Share of a full worker's capacity this post gives now (0 when nobody works)."""
        if self.state == WORKING:
            return 1.0
        if self.state == INTRODUCTION:
            return self.settings.introduction_capacity
        return 0.0

    @property
    def abolished(self) -> bool:
        """The post was removed (read after a wait: another process may have abolished it)."""
        return self.state == ABOLISHED

    @property
    def filled(self) -> bool:
        """Someone holds the post (working, in introduction or on leave): the post is paid."""
        return self.state in (WORKING, INTRODUCTION, LEAVE)


ChangeCallback = Callable[[Post], None]


class StaffRoster:
    """All posts of all roles, with the processes that move people in and out of them."""

    def __init__(self, env: simpy.Environment, streams: Streams, on_change: ChangeCallback) -> None:
        self.env = env
        self.streams = streams
        self.on_change = on_change
        self.posts: dict[StaffRole, list[Post]] = {}

    def active(self, role: StaffRole) -> list[Post]:
        return [p for p in self.posts.get(role, []) if p.state != ABOLISHED]

    def set_role(self, role: StaffRole, settings: StaffRoleSettings, *, initial: bool) -> None:
        """Apply ``settings`` to a role: at the start all posts are filled, later new posts are
        vacancies to be recruited and removed posts are the vacant, then the newest, ones."""
        posts = self.posts.setdefault(role, [])
        active = self.active(role)
        for post in active:
            post.settings = settings
        extra = settings.posts - len(active)
        for _ in range(max(extra, 0)):
            index = len(posts)
            post = Post(
                role=role,
                index=index,
                state=WORKING if initial else VACANT,
                settings=settings,
                rng=self.streams.get(f"staff.{role}", index),
                hired_day=self.env.now,
            )
            posts.append(post)
            post.process = self.env.process(post_lifecycle(self.env, post, self.on_change))
            self.on_change(post)
        if extra < 0:
            order = {VACANT: 0, LEAVE: 1, INTRODUCTION: 2, WORKING: 3}
            doomed = sorted(active, key=lambda p: (order[p.state], -p.hired_day, -p.index))
            for post in doomed[:-extra]:
                post.state = ABOLISHED
                if post.process is not None and post.waiting:
                    post.process.interrupt("abolished")
                self.on_change(post)


def post_lifecycle(
    env: simpy.Environment, post: Post, on_change: ChangeCallback
) -> Generator[simpy.Event, Any, None]:
    """The life of one post: work, leave (turnover or parental leave), vacancy, new hire."""
    while post.state != ABOLISHED:
        if post.state == VACANT:
            yield from _wait(env, post, post.settings.vacancy_fill_days.draw(post.rng.random()))
            if post.abolished:
                return
            post.hired_day = env.now
            post.state = INTRODUCTION if post.settings.introduction_days > 0 else WORKING
            on_change(post)
            continue
        s = post.settings
        turnover = s.annual_turnover / DAYS_PER_YEAR
        leave = s.parental_leave_per_year / DAYS_PER_YEAR
        total = turnover + leave
        until_event = post.rng.exponential(1 / total) if total > 0 else float("inf")
        until_intro_end = (
            post.hired_day + s.introduction_days - env.now
            if post.state == INTRODUCTION
            else float("inf")
        )
        if until_event == float("inf") and until_intro_end == float("inf"):
            yield from _wait(env, post, None)
            continue
        if until_intro_end <= until_event:
            yield from _wait(env, post, max(until_intro_end, 0.0))
            if post.state == INTRODUCTION:
                post.state = WORKING
                on_change(post)
            continue
        yield from _wait(env, post, until_event)
        if post.abolished:
            return
        if post.rng.random() < turnover / total:
            post.state = VACANT
            on_change(post)
        else:
            before = post.state
            post.state = LEAVE
            on_change(post)
            yield from _wait(env, post, s.parental_leave_days.draw(post.rng.random()))
            if post.abolished:
                return
            post.state = before
            on_change(post)


def _wait(
    env: simpy.Environment, post: Post, delay: float | None
) -> Generator[simpy.Event, Any, None]:
    """Wait ``delay`` days (``None``: until abolished); abolishing the post interrupts the wait.

    One timeout per wait: an interrupt, not a second event raced against the timeout, because
    abolishing a post is rare and every wait would otherwise cost three events.
    """
    post.waiting = True
    try:
        yield env.event() if delay is None else env.timeout(delay)
    except simpy.Interrupt:
        pass
    finally:
        post.waiting = False
