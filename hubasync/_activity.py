"""When was a tag last used, and is it active? Pure rules shared by the audit and prune.

Hub's tag listing carries activity at two levels: the tag's own ``tag_last_pushed`` /
``tag_last_pulled`` (with ``tag_status``, Hub's judgement over the past month) and, per
platform, ``images[].last_pushed`` / ``last_pulled`` / ``status``. Tags pushed before late
2020 have no ``tag_*`` field at all. The rule, in order:

1. the latest of ``tag_last_pushed`` and ``tag_last_pulled`` (basis ``"tag"``);
2. else the latest push or pull of the tag's platform images (basis ``"images"``);
3. else the tag's ``last_updated``, a push time: the pulls are unknown (basis ``"pushed"``);
4. else nothing is known (basis ``None``): the status is ``None`` ("unknown").

With an ``active_from`` cutoff a tag is active when that instant is at or after the cutoff,
exactly as an image is in the seed's image API. Without one, Hub's ``tag_status`` is used
(then the images' ``status``: active if any is); a tag with neither is judged against Hub's
own default, one month before now. Prune never deletes a tag whose pulls are unknown
(basis ``"pushed"`` or ``None``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .models.repositories import Tag

__all__ = ["HUB_ACTIVE_WINDOW", "last_activity", "tag_status"]

#: How far back Hub's own ``tag_status`` looks: "the past month".
HUB_ACTIVE_WINDOW = timedelta(days=30)


def _latest(*instants: datetime | None) -> datetime | None:
    known = [t for t in instants if t is not None]
    return max(known) if known else None


def last_activity(tag: Tag) -> tuple[datetime | None, str | None]:
    """The latest push or pull known for ``tag`` and where it came from (see the module)."""
    own = _latest(tag.tag_last_pushed, tag.tag_last_pulled)
    if own is not None:
        return own, "tag"
    images = _latest(*(i.last_pushed for i in tag.images), *(i.last_pulled for i in tag.images))
    if images is not None:
        return images, "images"
    if tag.last_updated is not None:
        return tag.last_updated, "pushed"
    return None, None


def tag_status(tag: Tag, active_from: datetime | None, now: datetime | None = None) -> str | None:
    """``"active"``, ``"inactive"`` or ``None`` (nothing known) for ``tag`` (see the module)."""
    if active_from is None:
        hub = tag.tag_status or tag.status
        if hub is not None:
            return str(hub)
        statuses = {str(i.status) for i in tag.images if i.status is not None}
        if statuses:
            return "active" if "active" in statuses else "inactive"
        active_from = (now or datetime.now(UTC)) - HUB_ACTIVE_WINDOW
    instant, _ = last_activity(tag)
    if instant is None:
        return None
    return "active" if instant >= active_from else "inactive"
