"""Courses, chapters, lessons, lesson interactions, chat channels, chat messages, forums and forum posts ⇄ JSON.

These older whop-sdk models carry no account and, for children, no parent id: the sync lists them under their
parent (``/course_lessons?course_id=…``, ``/messages?channel_id=…``) and passes the parent in the
:class:`~analytics.sources.whop.shapes.common.ParseContext`. Authors arrive as user summaries; the sync resolves
them to member ids (the temporary ``_user_id`` key) before writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whop_sdk.types.chat_channel_list_item import ChatChannelListItem
from whop_sdk.types.course_chapter_list_item import CourseChapterListItem
from whop_sdk.types.course_lesson_interaction_list_item import CourseLessonInteractionListItem
from whop_sdk.types.course_lesson_list_item import CourseLessonListItem
from whop_sdk.types.course_list_item import CourseListItem
from whop_sdk.types.forum_list_item import ForumListItem
from whop_sdk.types.forum_post_list_item import ForumPostListItem
from whop_sdk.types.message_list_item import MessageListItem

from analytics.errors import DataValidationError
from analytics.sources.whop.shapes.common import (
    ParseContext,
    Shape,
    enum_value,
    iso,
    nested_id,
    obj,
    opt_int,
    parse_time,
    required,
    user_summary,
)
from analytics.store import schema

__all__ = [
    "CHAPTERS",
    "CHAT_CHANNELS",
    "COURSES",
    "FORUMS",
    "FORUM_POSTS",
    "LESSONS",
    "LESSON_INTERACTIONS",
    "MESSAGES",
    "render_interaction_event",
    "render_message_event",
]

Row = dict[str, Any]


def _author(row: Mapping[str, Any]) -> dict[str, Any]:
    """The user summary of a content item: the author member's user, else the row's own user (the creator)."""
    user_id = row.get("_user_id") or row.get("user_id") or row.get("member_id")
    summary = user_summary(user_id, row.get("_display_name"), row.get("_username"))
    if summary is None:
        raise DataValidationError(f"{row.get('id')} has no author", column="user")
    summary.pop("profile_picture")
    return summary


def _parent(ctx: ParseContext, name: str) -> Any:
    value = ctx.parent.get(name)
    if not value:
        raise DataValidationError(f"listed without its parent {name}", column=name)
    return value


# --- courses, chapters, lessons ---------------------------------------------------------------------------


def render_course(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": None,
        "tagline": None,
        "chapters_count": int(row.get("_chapters_count") or 0),
        "total_lessons_count": int(row.get("total_lessons_count") or 0),
        "completed_lessons_count": 0,
        "certificate_after_completion_enabled": False,
        "cover_image": None,
        "thumbnail": None,
        "language": "en",
        "latest_lesson_created_at": None,
        "lesson_unlock_days": [],
        "order": "1",
        "require_completing_lessons_in_order": False,
        "resume_lesson": None,
        "started_at": None,
        "total_duration_seconds": 0,
        "visibility": "visible",
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
    }


def parse_course(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "title": required(item, "title"),
        "total_lessons_count": opt_int(item.get("total_lessons_count"), "total_lessons_count"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


COURSES = Shape(
    "courses",
    schema.courses,
    CourseListItem,
    render_course,
    parse_course,
    ("title", "total_lessons_count", "created_at", "updated_at"),
)


def render_chapter(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["chapter_id"], "title": row.get("chapter_title") or "", "order": int(row["_order"])}


def parse_chapter(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    return {"chapter_id": required(item, "id"), "chapter_title": item.get("title")}


# Chapters are not a table of their own: they name the lessons listed under them.
CHAPTERS = Shape("course_chapters", schema.lessons, CourseChapterListItem, render_chapter, parse_chapter, ())


def render_lesson(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "lesson_type": row.get("lesson_type") or "text",
        "order": int(row["position"]),
        "visibility": "visible",
        "content": None,
        "days_from_course_start_until_unlock": None,
        "embed_id": None,
        "embed_type": None,
        "thumbnail": None,
        "created_at": iso(row.get("created_at") or row.get("_course_created_at")),
    }


def parse_lesson(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "course_id": _parent(ctx, "course_id"),
        "chapter_id": ctx.parent.get("chapter_id"),
        "chapter_title": ctx.parent.get("chapter_title"),
        "title": required(item, "title"),
        "lesson_type": enum_value(item.get("lesson_type"), "lessons", "lesson_type"),
        "position": opt_int(required(item, "order"), "order"),
        "created_at": parse_time(item.get("created_at"), "created_at"),
    }


LESSONS = Shape(
    "course_lessons",
    schema.lessons,
    CourseLessonListItem,
    render_lesson,
    parse_lesson,
    ("course_id", "chapter_id", "chapter_title", "title", "lesson_type", "position", "created_at"),
)


# --- lesson interactions ----------------------------------------------------------------------------------


def render_interaction(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "completed": bool(row.get("completed")),
        "created_at": iso(row["created_at"]),
        "lesson": {
            "id": row["lesson_id"],
            "title": row.get("_lesson_title") or row["lesson_id"],
            "chapter": {"id": row.get("_chapter_id") or row.get("course_id") or row["lesson_id"]},
        },
        "user": _author(row),
    }


def render_interaction_event(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``CourseLessonInteraction`` of a ``course_lesson_interaction.completed`` webhook (adds the course)."""
    item = render_interaction(row)
    item["course"] = {
        "id": row.get("course_id"),
        "title": row.get("_course_title"),
        "experience": {"id": row.get("course_id")},
    }
    return item


def parse_interaction(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    lesson = obj(item, "lesson")
    course_id = ctx.parent.get("course_id") or nested_id(item, "course")
    user_id = nested_id(item, "user")
    if not user_id:
        raise DataValidationError("lesson interaction has no user", column="user")
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "lesson_id": required(lesson, "id"),
        "course_id": course_id,
        "user_id": user_id,
        "_user_id": user_id,
        "completed": bool(item.get("completed")),
        "created_at": parse_time(required(item, "created_at"), "created_at"),
    }


LESSON_INTERACTIONS = Shape(
    "course_lesson_interactions",
    schema.lesson_interactions,
    CourseLessonInteractionListItem,
    render_interaction,
    parse_interaction,
    ("lesson_id", "course_id", "user_id", "member_id", "completed", "created_at"),
)


# --- chat -------------------------------------------------------------------------------------------------


def render_chat_channel(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "experience": {"id": row.get("experience_id") or row["id"], "name": row.get("name") or row["id"]},
        "ban_media": False,
        "ban_urls": False,
        "banned_words": [],
        "user_posts_cooldown_seconds": None,
        "who_can_post": "everyone",
        "who_can_react": "everyone",
    }


def parse_chat_channel(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    experience = obj(item, "experience")
    row: Row = {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "experience_id": experience.get("id"),
        "name": experience.get("name"),
    }
    if ctx.parent.get("product_id"):
        row["product_id"] = ctx.parent["product_id"]
    return row


CHAT_CHANNELS = Shape(
    "chat_channels",
    schema.chat_channels,
    ChatChannelListItem,
    render_chat_channel,
    parse_chat_channel,
    ("experience_id", "product_id", "name"),
)


def render_message(row: Mapping[str, Any]) -> dict[str, Any]:
    properties = obj(row, "properties")
    return {
        "id": row["id"],
        "content": properties.get("content"),
        "created_at": iso(row["occurred_at"]),
        "updated_at": iso(row["occurred_at"]),
        "is_edited": False,
        "is_pinned": False,
        "mentions": [],
        "mentions_everyone": False,
        "message_type": "regular",
        "poll": None,
        "poll_votes": [],
        "reaction_counts": [],
        "replying_to_message_id": None,
        "user": _author(row),
        "view_count": None,
    }


def render_message_event(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` of a ``chat.message.created`` webhook: ``{audience, channel, message, reason}``."""
    return {
        "audience": "everyone",
        "channel": {"id": row["object_id"], "type": "chat"},
        "message": render_message(row),
        "reason": "message_created",
    }


def parse_message(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    user_id = nested_id(item, "user")
    if not user_id:
        raise DataValidationError("message has no user", column="user")
    row: Row = {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "_user_id": user_id,
        "kind": "message",
        "occurred_at": parse_time(required(item, "created_at"), "created_at"),
        "object_id": _parent(ctx, "channel_id"),
        "channel": "whop_chat",
        "product_id": ctx.parent.get("product_id"),
    }
    if item.get("content"):
        row["properties"] = {"content": item["content"]}
    return row


MESSAGES = Shape(
    "messages",
    schema.activity_events,
    MessageListItem,
    render_message,
    parse_message,
    ("member_id", "kind", "occurred_at", "object_id", "channel"),
)


# --- forums -----------------------------------------------------------------------------------------------


def render_forum(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["experience_id"],
        "experience": {"id": row["experience_id"], "name": row["experience_id"], "is_public": True},
        "email_notification_preference": "none",
        "who_can_comment": "everyone",
        "who_can_post": "everyone",
    }


def parse_forum(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    experience = obj(item, "experience")
    return {"experience_id": experience.get("id") or required(item, "id")}


FORUMS = Shape("forums", schema.posts, ForumListItem, render_forum, parse_forum, ())


def render_post(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row.get("title"),
        "content": None,
        "attachments": [],
        "comment_count": int(row.get("comment_count") or 0),
        "like_count": int(row.get("like_count") or 0),
        "view_count": int(row.get("view_count") or 0),
        "is_edited": False,
        "is_pinned": False,
        "is_poster_admin": row.get("member_id") is None,
        "parent_id": row.get("parent_id"),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row.get("updated_at") or row["created_at"]),
        "user": _author(row),
    }


def parse_post(item: Mapping[str, Any], ctx: ParseContext) -> Row:
    user_id = nested_id(item, "user")
    return {
        "account_id": ctx.account_id,
        "id": required(item, "id"),
        "experience_id": _parent(ctx, "experience_id"),
        "user_id": user_id,
        "_user_id": user_id,
        "parent_id": item.get("parent_id"),
        "title": item.get("title"),
        "view_count": opt_int(item.get("view_count"), "view_count") or 0,
        "comment_count": opt_int(item.get("comment_count"), "comment_count") or 0,
        "like_count": opt_int(item.get("like_count"), "like_count") or 0,
        "created_at": parse_time(required(item, "created_at"), "created_at"),
        "updated_at": parse_time(item.get("updated_at"), "updated_at"),
    }


FORUM_POSTS = Shape(
    "forum_posts",
    schema.posts,
    ForumPostListItem,
    render_post,
    parse_post,
    (
        "experience_id",
        "member_id",
        "user_id",
        "parent_id",
        "title",
        "view_count",
        "comment_count",
        "like_count",
        "created_at",
        "updated_at",
    ),
)
