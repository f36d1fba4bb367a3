"""Content: forum posts and comments (with view, comment and like counts) and course progress with drop-off.

Posts are planned per account before the batches run (their instants and ids are known, so any member's views
can point at them); each post's author is checked in the author's batch and falls back to the creator (no
member) when that member had no access at the time. Views and reactions are counted as batches reference posts.

Course progress: a member with access to a product works through its course lesson by lesson; after each lesson
they continue with a probability that rises with engagement, so completions fall along the course position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.demo.activity import EventColumns, Intervals
from analytics.demo.calendar import DAY, HISTORY_DAYS, HOUR
from analytics.demo.frames import or_none, store_frame
from analytics.demo.ids import IdMaker
from analytics.demo.population import Population

__all__ = ["PostPlan", "course_progress", "plan_posts"]

POSTS_PER_MEMBER = 0.45
COMMENTS_PER_POST = 1.3
_TITLES = (
    "Weekly wins thread",
    "My first profitable month",
    "Question about risk sizing",
    "Chart review",
    "Book recommendations",
    "Morning routine",
    "Intro: new here!",
    "What I learned this week",
    "Setup feedback please",
    "Monthly goals",
)


@dataclass
class PostPlan:
    """Every post and comment of an account, in time order, with running counters."""

    ids: npt.NDArray[np.str_]
    at: npt.NDArray[np.int64]
    parent: npt.NDArray[np.int64]  # -1 for a top-level post
    author: npt.NDArray[np.int64]  # candidate member number; -1 after a failed check = the creator
    batch: npt.NDArray[np.int64]
    top: npt.NDArray[np.int64]  # indices of top-level posts, by time
    views: npt.NDArray[np.int64]
    likes: npt.NDArray[np.int64]

    def pick_targets(self, rng: np.random.Generator, at: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A recent top-level post for each instant (index into the plan), or -1 when none exists yet."""
        top_at = self.at[self.top]
        before = np.searchsorted(top_at, at, side="right")
        back = np.floor(rng.exponential(40.0, len(at))).astype(np.int64)
        k = before - 1 - np.minimum(back, np.maximum(before - 1, 0))
        return np.where(before > 0, self.top[np.maximum(k, 0)], -1)

    def frame(
        self,
        account_id: str,
        experience_id: str,
        member_ids: npt.NDArray[np.str_],
        user_ids: npt.NDArray[np.str_],
        creator_user: str,
        horizon: int,
    ) -> pd.DataFrame:
        comments = np.bincount(self.parent[self.parent >= 0], minlength=len(self.ids))
        last_comment = np.full(len(self.ids), -1, dtype=np.int64)
        np.maximum.at(last_comment, self.parent[self.parent >= 0], self.at[self.parent >= 0])
        has_author = self.author >= 0
        return store_frame(
            "posts",
            {
                "account_id": [account_id] * len(self.ids),
                "id": self.ids,
                "experience_id": [experience_id] * len(self.ids),
                "member_id": or_none(has_author, member_ids),
                "user_id": np.where(has_author, user_ids, creator_user),
                "parent_id": or_none(self.parent >= 0, self.ids[np.maximum(self.parent, 0)]),
                "title": [None if p >= 0 else _TITLES[i % len(_TITLES)] for i, p in enumerate(self.parent.tolist())],
                "view_count": self.views,
                "comment_count": comments,
                "like_count": self.likes,
                "created_at": self.at,
                "updated_at": np.maximum(self.at, last_comment),
            },
        )


def plan_posts(
    rng: np.random.Generator,
    pop: Population,
    ids: npt.NDArray[np.str_] | None,
    horizon: int,
    batch_members: int,
    make_ids: IdMaker,
) -> PostPlan:
    """Plan the account's posts: instants follow the size of the community, authors are recent joiners."""
    n_top = max(1, round(POSTS_PER_MEMBER * pop.n))
    first = horizon - HISTORY_DAYS * DAY
    grid = first + np.arange(HISTORY_DAYS) * DAY
    weights = np.searchsorted(pop.signup, grid).astype(float) ** 0.9 + 1.0
    days = np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n_top), side="right").clip(
        0, HISTORY_DAYS - 1
    )
    top_at = np.sort(grid[days] + rng.integers(7 * HOUR, 23 * HOUR, n_top))
    parents = np.sort(rng.integers(0, n_top, round(COMMENTS_PER_POST * n_top)))
    com_at = top_at[parents] + (rng.lognormal(np.log(5 * HOUR), 1.2, len(parents))).astype(np.int64)
    keep = com_at < horizon - 60
    parents, com_at = parents[keep], com_at[keep]
    at = np.concatenate([top_at, com_at])
    parent = np.concatenate([np.full(n_top, -1), parents])
    order = np.argsort(at, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    at, parent = at[order], np.where(parent[order] >= 0, rank[np.maximum(parent[order], 0)], -1)
    # Candidate author: the most engaged of three members who joined within the 120 days before.
    lo = np.searchsorted(pop.signup, at - 120 * DAY)
    hi = np.searchsorted(pop.signup, at)
    span = np.maximum(hi - lo, 1)
    cands = lo[:, None] + (rng.random((len(at), 3)) * span[:, None]).astype(np.int64)
    cands = np.minimum(cands, pop.n - 1)
    best = cands[np.arange(len(at)), np.argmax(pop.z[cands], axis=1)]
    author = np.where(hi > lo, best, -1)
    post_ids = make_ids.take(len(at))
    return PostPlan(
        post_ids,
        at,
        parent,
        author,
        np.where(author >= 0, author // batch_members, -1),
        np.flatnonzero(parent < 0),
        np.zeros(len(at), dtype=np.int64),
        np.zeros(len(at), dtype=np.int64),
    )


def author_posts(plan: PostPlan, batch_no: int, iv: Intervals, forum_product: int) -> EventColumns:
    """Check this batch's planned authors against their access; return their post/comment events."""
    mine = np.flatnonzero(plan.batch == batch_no)
    if len(mine) == 0 or len(iv.member) == 0:
        plan.author[mine] = -1
        return _no_events()
    authors, at = plan.author[mine], plan.at[mine]
    lo = np.searchsorted(iv.member, authors, side="left")
    hi = np.searchsorted(iv.member, authors, side="right")
    ok = np.zeros(len(mine), dtype=bool)
    for k in range(int((hi - lo).max(initial=0))):
        j = np.minimum(lo + k, len(iv.member) - 1)
        ok |= (lo + k < hi) & (iv.start[j] <= at) & (iv.end[j] > at)
    plan.author[mine[~ok]] = -1
    good = mine[ok]
    kinds = np.where(plan.parent[good] >= 0, "comment", "post")
    return EventColumns(
        plan.author[good],
        kinds,
        plan.at[good],
        plan.ids[good].astype(object),
        np.full(len(good), "forum", dtype=object),
        np.full(len(good), forum_product),
    )


def _no_events() -> EventColumns:
    e = np.zeros(0, dtype=np.int64)
    return EventColumns(e, np.zeros(0, dtype=str), e, np.zeros(0, dtype=object), np.zeros(0, dtype=object), e)


def course_progress(
    rng: np.random.Generator,
    iv: Intervals,
    z: npt.NDArray[np.float64],
    lessons: pd.DataFrame,
    course_ids: list[str],
    horizon: int,
) -> tuple[dict[str, npt.NDArray[Any]], EventColumns]:
    """Lesson interactions (columns) and lesson_view/lesson_complete/download events of a batch."""
    rows: dict[str, list[npt.NDArray[Any]]] = {
        k: [] for k in ("member", "lesson", "course", "created", "completed", "completed_at")
    }
    events: list[EventColumns] = []
    for product_key, group in lessons.groupby("product", sort=True):
        product = int(str(product_key))
        sel = np.flatnonzero(iv.product == product)
        if len(sel) == 0:
            continue
        # One enrolment per member: their first interval with this product.
        _, first_idx = np.unique(iv.member[sel], return_index=True)
        sel = sel[first_idx]
        member, start, end = iv.member[sel], iv.start[sel], np.minimum(iv.end[sel], horizon)
        n_lessons = len(group)
        zz = z[member]
        base = 0.86 if product == 1 else 0.80
        p_continue = np.clip(base + 0.06 * zz, 0.55, 0.97)
        starts = rng.random(len(sel)) < np.clip(0.75 + 0.1 * zz, 0.4, 0.95)
        # Lessons reached: 1 + geometric number of continuations, capped by the course length.
        reached = np.where(starts, np.minimum(rng.geometric(1 - p_continue), n_lessons), 0)
        mean_gap = (2.0 if product == 1 else 4.0) * DAY * np.exp(-0.3 * zz)
        gaps = rng.exponential(1.0, (len(sel), n_lessons)) * mean_gap[:, None]
        gaps[:, 0] += rng.exponential(2 * DAY, len(sel))
        view_at = start[:, None] + np.cumsum(gaps, axis=1).astype(np.int64)
        pos = np.arange(n_lessons)[None, :]
        alive = (pos < reached[:, None]) & (view_at < end[:, None])
        last = pos == (reached[:, None] - 1)
        completes = rng.random(alive.shape) < np.where(last, 0.55, 0.93)
        done_at = view_at + rng.lognormal(np.log(12 * 60), 0.6, alive.shape).astype(np.int64)
        completes &= done_at < end[:, None]
        r, c = np.nonzero(alive)
        lesson_ids = group["id"].to_numpy()[c]
        course = course_ids[product]
        rows["member"].append(member[r])
        rows["lesson"].append(lesson_ids)
        rows["course"].append(np.full(len(r), course, dtype=object))
        rows["created"].append(view_at[r, c])
        rows["completed"].append(completes[r, c])
        rows["completed_at"].append(np.where(completes[r, c], done_at[r, c], -1))
        pdf = (group["lesson_type"].to_numpy()[c] == "pdf") & (view_at[r, c] + 90 < end[r])
        comp = completes[r, c]
        events.append(
            EventColumns(
                np.concatenate([member[r], member[r][comp], member[r][pdf]]),
                np.array(
                    ["lesson_view"] * len(r) + ["lesson_complete"] * int(comp.sum()) + ["download"] * int(pdf.sum())
                ),
                np.concatenate([view_at[r, c], done_at[r, c][comp], view_at[r, c][pdf] + 90]),
                np.concatenate([lesson_ids, lesson_ids[comp], lesson_ids[pdf]]).astype(object),
                np.full(len(r) + int(comp.sum()) + int(pdf.sum()), "course", dtype=object),
                np.full(len(r) + int(comp.sum()) + int(pdf.sum()), product),
            )
        )
    out = {k: (np.concatenate(v) if v else np.zeros(0, dtype=object)) for k, v in rows.items()}
    return out, (EventColumns.concat(events) if events else _no_events())
