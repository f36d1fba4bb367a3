"""The churn feature catalog: every feature once, with its description, window, unit and the words used to explain it.

Like the metric catalog, features are data: :data:`FEATURES` lists them in model-column order,
:func:`feature_catalog` returns them as a DataFrame and :func:`feature_docs_markdown` renders
``docs/churn-features.md`` (a test keeps the page up to date).

Each feature has two phrases for explanations, chosen by whether the member's value is above or below the typical
(median) training value; they are ``str.format`` templates over the member's feature row plus ``value`` and
``typical``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FEATURES", "FEATURE_NAMES", "FeatureSpec", "feature_catalog", "feature_docs_markdown", "get_feature"]


@dataclass(frozen=True)
class FeatureSpec:
    """What the catalog knows about one feature."""

    name: str
    group: str
    description: str
    window: str
    unit: str
    source: str
    high_text: str
    low_text: str


def _f(
    name: str, group: str, description: str, window: str, unit: str, source: str, high: str, low: str
) -> FeatureSpec:
    return FeatureSpec(name, group, description, window, unit, source, high, low)


_MSC = "membership_status_changes"
_EV = "activity_events"
_LI = "lesson_interactions, lessons"
_PAY = "payments"

# fmt: off
FEATURES: tuple[FeatureSpec, ...] = (
    # membership
    _f("tenure_days", "membership",
       "Days since the member's first membership change.",
       "all history", "days", _MSC,
       "Member for {value:.0f} days",
       "New member ({value:.0f} days)"),
    _f("paid_tenure_days", "membership",
       "Days since the member first paid (first paying state).",
       "all history", "days", _MSC,
       "Paying for {value:.0f} days",
       "Paying for only {value:.0f} days"),
    _f("monthly_price_minor", "membership",
       "Recurring price of the paying memberships normalised to a month: price × 30 ÷ billing days (a "
       "365-day plan counts price ÷ 12), after discounts, in minor units of the membership currency.",
       "in force at d", "minor units / month", _MSC,
       "Pays {value_major:.2f} a month (typical {typical_major:.2f})",
       "Pays {value_major:.2f} a month (typical {typical_major:.2f})"),
    _f("billing_period_days", "membership",
       "Longest billing period among the paying memberships.",
       "in force at d", "days", _MSC,
       "Billed every {value:.0f} days",
       "Billed every {value:.0f} days"),
    _f("paying_memberships", "membership",
       "Number of paying memberships.",
       "in force at d", "count", _MSC,
       "Has {value:.0f} paying memberships",
       "Has a single paying membership"),
    _f("cancel_at_period_end", "membership",
       "1 when a paying membership is set to cancel at the end of its period (or is in status canceling).",
       "in force at d", "flag", _MSC,
       "Has asked to cancel at the end of the period",
       "Has not asked to cancel"),
    _f("past_due", "membership",
       "1 when a paying membership is past due.",
       "in force at d", "flag", _MSC,
       "Subscription is past due",
       "Subscription is not past due"),
    _f("had_trial", "membership",
       "1 when the member was ever trialing.",
       "all history", "flag", _MSC,
       "Started with a free trial",
       "Did not start with a trial"),
    _f("previous_cancellations", "membership",
       "Memberships of the member that ended (canceled/expired) before d.",
       "all history", "count", _MSC,
       "Cancelled {value:.0f} time(s) before",
       "Never cancelled before"),
    _f("status_changes_90d", "membership",
       "Membership status changes in the 90 days before d.",
       "90 days", "count", _MSC,
       "{value:.0f} plan/status changes in 90 days",
       "Few plan/status changes ({value:.0f} in 90 days)"),
    # activity
    _f("events_7d", "activity",
       "Activity events (any kind) in the 7 days before d.",
       "7 days", "count", _EV,
       "{value:.0f} actions in the last 7 days",
       "Only {value:.0f} actions in the last 7 days (typical {typical:.0f})"),
    _f("events_30d", "activity",
       "Activity events (any kind) in the 30 days before d.",
       "30 days", "count", _EV,
       "{value:.0f} actions in the last 30 days",
       "Only {value:.0f} actions in the last 30 days (typical {typical:.0f})"),
    _f("events_90d", "activity",
       "Activity events (any kind) in the 90 days before d.",
       "90 days", "count", _EV,
       "{value:.0f} actions in the last 90 days",
       "Only {value:.0f} actions in the last 90 days (typical {typical:.0f})"),
    _f("events_prev_30d", "activity",
       "Activity events 31–60 days before d (the month before the last one).",
       "days 31–60", "count", _EV,
       "Was active the month before ({value:.0f} actions)",
       "Was little active the month before ({value:.0f} actions)"),
    _f("activity_trend_30d", "activity",
       "(events in the last 30 d − events in the 30 d before) ÷ their sum; −1 = stopped, +1 = new, 0 = "
       "steady/none.",
       "60 days", "ratio −1…1", _EV,
       "Activity is rising",
       "Activity fell from {events_prev_30d:.0f} to {events_30d:.0f} actions a month"),
    _f("activity_trend_7d", "activity",
       "(daily events in the last 7 d − daily events in the last 30 d) ÷ their sum; below 0 = slowing down.",
       "30 days", "ratio −1…1", _EV,
       "More active this week than usual",
       "Less active this week than this month"),
    _f("logins_7d", "activity",
       "Logins in the 7 days before d.",
       "7 days", "count", _EV,
       "Logged in {value:.0f} times this week",
       "Logged in only {value:.0f} times this week (typical {typical:.0f})"),
    _f("logins_30d", "activity",
       "Logins in the 30 days before d.",
       "30 days", "count", _EV,
       "Logged in {value:.0f} times in 30 days",
       "Logged in only {value:.0f} times in 30 days (typical {typical:.0f})"),
    _f("messages_7d", "activity",
       "Chat messages sent in the 7 days before d.",
       "7 days", "count", _EV,
       "Sent {value:.0f} messages this week",
       "Sent only {value:.0f} messages this week (typical {typical:.0f})"),
    _f("messages_30d", "activity",
       "Chat messages sent in the 30 days before d.",
       "30 days", "count", _EV,
       "Sent {value:.0f} messages in 30 days",
       "Sent only {value:.0f} messages in 30 days (typical {typical:.0f})"),
    _f("content_views_30d", "activity",
       "Views of posts, lessons, pages and downloads in the 30 days before d.",
       "30 days", "count", _EV,
       "Viewed content {value:.0f} times in 30 days",
       "Viewed content only {value:.0f} times in 30 days (typical {typical:.0f})"),
    _f("active_days_7d", "activity",
       "Distinct UTC days with any activity in the 7 days before d.",
       "7 days", "days", _EV,
       "Active on {value:.0f} of the last 7 days",
       "Active on only {value:.0f} of the last 7 days"),
    _f("active_days_30d", "activity",
       "Distinct UTC days with any activity in the 30 days before d.",
       "30 days", "days", _EV,
       "Active on {value:.0f} of the last 30 days",
       "Active on only {value:.0f} of the last 30 days (typical {typical:.0f})"),
    _f("active_days_90d", "activity",
       "Distinct UTC days with any activity in the 90 days before d.",
       "90 days", "days", _EV,
       "Active on {value:.0f} of the last 90 days",
       "Active on only {value:.0f} of the last 90 days"),
    _f("days_since_last_activity", "activity",
       "Days from the last activity event to d; a member never active counts from their first membership "
       "change.",
       "all history", "days", _EV,
       "No activity for {value:.0f} days (usually every {usual_activity_gap_days:.0f})",
       "Active {value:.0f} days ago"),
    _f("usual_activity_gap_days", "activity",
       "Usual days between active days: min(90, tenure) ÷ active days in the last 90 days (the window when "
       "none).",
       "90 days", "days", _EV,
       "Usually active only every {value:.0f} days",
       "Usually active every {value:.0f} days"),
    _f("engagement_score", "activity",
       "The engagement score metric (analytics.metrics.engagement.engagement_scores, as of the cut): round(100 × "
       "(0.3·min(messages/10,1) + 0.2·min(logins/7,1) + 0.3·min(course_progress_pct/100,1) + 0.2·max(0, 1 − "
       "whole days since active/30))); no activity in 30 days scores 0 for recency.",
       "7 days (counts), 30 days (recency)", "score 0–100", "engagement_score metric",
       "Engagement score {value:.0f}",
       "Low engagement score {value:.0f} (typical {typical:.0f})"),
    # course
    _f("lessons_completed", "course",
       "Distinct lessons completed before d.",
       "all history", "count", _LI,
       "Completed {value:.0f} lessons",
       "Completed only {value:.0f} lessons (typical {typical:.0f})"),
    _f("lessons_completed_30d", "course",
       "Lessons completed in the 30 days before d.",
       "30 days", "count", _LI,
       "Completed {value:.0f} lessons this month",
       "Completed only {value:.0f} lessons this month"),
    _f("course_progress_pct", "course",
       "Completed ÷ total lessons of the courses the member started, × 100 (0 when none started); from the "
       "engagement_score metric.",
       "all history", "percent", "engagement_score metric",
       "Course {value:.0f}% done",
       "Course only {value:.0f}% done (typical {typical:.0f}%)"),
    # payments
    _f("paid_payments", "payments",
       "Payments paid before d.",
       "all history", "count", _PAY,
       "Has paid {value:.0f} times",
       "Has paid only {value:.0f} time(s)"),
    _f("days_since_last_payment", "payments",
       "Days since the last paid payment (tenure when none).",
       "all history", "days", _PAY,
       "Last paid {value:.0f} days ago",
       "Paid {value:.0f} days ago"),
    _f("days_to_renewal", "payments",
       "Estimated days to the next renewal: billing period − (days since last payment mod billing period).",
       "in force at d", "days", _PAY,
       "Next renewal in {value:.0f} days",
       "Renewal due in {value:.0f} days"),
    _f("failed_payments_90d", "payments",
       "Payments created in the 90 days before d that failed at least once (payments_failed > 0, substatus "
       "failed/past_due/uncollectible or status uncollectible).",
       "90 days", "count", _PAY,
       "{value:.0f} failed payment(s) in 90 days",
       "No failed payments"),
    _f("recovered_payments_90d", "payments",
       "Failed payments that were paid in the 90 days before d.",
       "90 days", "count", _PAY,
       "Recovered {value:.0f} failed payment(s)",
       "No recovered payments"),
    _f("unrecovered_failed_payment", "payments",
       "1 when a payment created in the 30 days before d failed and was not paid before d (in dunning).",
       "30 days", "flag", _PAY,
       "A payment failed and is not recovered",
       "No open failed payment"),
    _f("refunds", "payments",
       "Payments refunded (fully or partly) before d.",
       "all history", "count", _PAY,
       "Got {value:.0f} refund(s)",
       "No refunds"),
    _f("disputes", "payments",
       "Disputes (chargebacks) opened on the member's payments before d.",
       "all history", "count", "disputes, payments",
       "Opened {value:.0f} dispute(s)",
       "No disputes"),
    _f("used_promo_code", "payments",
       "1 when a payment or membership of the member used a promo code before d.",
       "all history", "flag", "payments, memberships.promo_code_id (set at checkout)",
       "Joined with a promo code",
       "Pays full price (no promo code)"),
    # support
    _f("question_messages_30d", "support",
       "Chat messages in the 30 days before d whose properties contain a question ('?', 'how do', 'how to', "
       "'help', 'can't', 'cannot').",
       "30 days", "count", "activity_events (kind message, properties text)",
       "Asked {value:.0f} question(s) in chat this month",
       "No questions in chat"),
    _f("complaint_messages_30d", "support",
       "Chat messages in the 30 days before d whose properties contain complaint words ('cancel', 'refund', "
       "'not working', 'broken', 'disappointed', 'waste', 'too expensive', 'not worth', 'problem', 'issue').",
       "30 days", "count", "activity_events (kind message, properties text)",
       "Complained in chat {value:.0f} time(s) this month",
       "No complaints in chat"),
    _f("whatsapp_inbound_30d", "support",
       "WhatsApp messages received from the member in the 30 days before d.",
       "30 days", "count", "wa_messages, wa_contacts",
       "Wrote {value:.0f} WhatsApp messages this month",
       "No WhatsApp messages this month"),
)
# fmt: on

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
_BY_NAME = {f.name: f for f in FEATURES}


def get_feature(name: str) -> FeatureSpec:
    """The catalog entry of ``name``; the error lists the known features."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown churn feature {name!r}; known: {', '.join(FEATURE_NAMES)}") from None


def feature_catalog() -> pd.DataFrame:
    """Every feature with group, description, window, unit and source tables, in model-column order."""
    return pd.DataFrame(
        [
            {
                "name": f.name,
                "group": f.group,
                "description": f.description,
                "window": f.window,
                "unit": f.unit,
                "source": f.source,
            }
            for f in FEATURES
        ],
        columns=["name", "group", "description", "window", "unit", "source"],
    )


def feature_docs_markdown() -> str:
    """The text of ``docs/churn-features.md``, generated from :data:`FEATURES`."""
    lines = [
        "# Churn features",
        "",
        "<!-- Generated by analytics.models.churn.feature_catalog.feature_docs_markdown(); do not edit by hand. -->",
        "",
        "Features are computed **as of a prediction date d**: the instant d 00:00 UTC, using only rows whose",
        "timestamps are before it. Membership state comes from `membership_status_changes` (never from the",
        "current-state columns of `memberships`). Windows are the days just before d. The same code path",
        "(`analytics.models.churn.build_features`) builds training sets (many dates) and scoring sets (today).",
        "",
        "| name | group | description | window | unit | source |",
        "|---|---|---|---|---|---|",
    ]
    for f in FEATURES:
        desc = f.description.replace("|", "\\|")
        lines.append(f"| `{f.name}` | {f.group} | {desc} | {f.window} | {f.unit} | {f.source} |")
    lines.append("")
    return "\n".join(lines)
