"""JSON bodies FakeHub serves, built from its state in the shapes of the Hub API specs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from ._clock import format_ts
from ._state import ADMIN, READ, WRITE, Event, Image, Pat, Repository, Tag, image_status

__all__ = [
    "AUDIT_ACTIONS_BODY",
    "dumps",
    "event_json",
    "image_fragment",
    "images_page",
    "page_links",
    "repo_entry_json",
    "repo_info_json",
    "tag_json",
    "token_json",
]


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _opt_ts(ts: float | None) -> str | None:
    return None if ts is None else format_ts(ts)


_ACTIVE = b'"active"}'
_INACTIVE = b'"inactive"}'


def image_fragment(namespace: str, repository: str, img: Image) -> bytes:
    """The JSON of an image list entry up to its status value (cached on the image)."""
    frag = img.frag
    if frag is None:
        tags = [{"tag": t, "is_current": True} for t in img.tags]
        tags.extend({"tag": t, "is_current": False} for t in img.old_tags)
        body = {
            "namespace": namespace,
            "repository": repository,
            "digest": img.digest,
            "tags": tags,
            "last_pushed": _opt_ts(img.pushed),
            "last_pulled": _opt_ts(img.pulled),
        }
        frag = img.frag = dumps(body)[:-1] + b',"status":'
    return frag


def images_page(
    namespace: str,
    repository: str,
    images: list[Image],
    count: int,
    links: tuple[str | None, str | None],
    active_from: float,
) -> bytes:
    """The body of ``GET …/images`` (seed ``GetNamespaceRepositoryImagesResponse``)."""
    head = dumps({"count": count, "next": links[0], "previous": links[1]})
    items = b",".join(
        image_fragment(namespace, repository, i)
        + (_ACTIVE if i.activity >= active_from else _INACTIVE)
        for i in images
    )
    return head[:-1] + b',"results":[' + items + b"]}"


def image_tags(img: Image) -> list[dict[str, Any]]:
    """Every tag of an image, current first (``GET …/images/{digest}/tags`` results)."""
    return [{"tag": t, "is_current": True} for t in img.tags] + [
        {"tag": t, "is_current": False} for t in img.old_tags
    ]


_PLATFORMS = (("amd64", None), ("arm64", "v8"), ("arm", "v7"), ("ppc64le", None))


def _platform(
    img: Image, arch: str, variant: str | None, digest: str, size: int, status: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "architecture": arch,
        "features": "",
        "digest": digest,
        "layers": [],
        "os": img.os,
        "os_features": "",
        "size": size,
        "status": status,
        "last_pulled": _opt_ts(img.pulled),
        "last_pushed": _opt_ts(img.pushed),
    }
    if variant is not None:
        entry["variant"] = variant
    return entry


def tag_json(
    repo: Repository, tag: Tag, img: Image, active_from: float, user_ids: dict[str, int]
) -> dict[str, Any]:
    """A tag as today's Hub serves it: ``images`` is a list, one entry per platform (the
    child manifests of a multi-arch image, else the image itself), each with its own status;
    ``tag_status``/``tag_last_pushed``/``tag_last_pulled`` and ``digest`` (the index's for a
    multi-arch image), except for a legacy tag (none of these) or one without ``digest``."""
    activity = tag.pushed if tag.pulled is None or tag.pushed >= tag.pulled else tag.pulled
    updater = user_ids.get(tag.pusher, 1)
    status = image_status(img, active_from)
    if img.children:
        share = img.size // len(img.children)
        images = []
        for i, child in enumerate(img.children):
            arch, variant = _PLATFORMS[i % len(_PLATFORMS)]
            images.append(_platform(img, arch, variant, child, share, status))
    else:
        images = [_platform(img, img.arch, None, img.digest, img.size, status)]
    body: dict[str, Any] = {
        "id": tag.id,
        "images": images,
        "creator": updater,
        "last_updated": format_ts(tag.pushed),
        "last_updater": updater,
        "last_updater_username": tag.pusher,
        "name": tag.name,
        "repository": repo.id,
        "full_size": img.size,
        "v2": "true",
        "media_type": (
            "application/vnd.oci.image.index.v1+json"
            if img.children
            else "application/vnd.docker.distribution.manifest.v2+json"
        ),
        "content_type": "image",
    }
    if tag.legacy:
        return body
    tag_status = "active" if activity >= active_from else "inactive"
    body["tag_status"] = tag_status
    body["tag_last_pulled"] = _opt_ts(tag.pulled)
    body["tag_last_pushed"] = format_ts(tag.pushed)
    if tag.show_digest:
        body["digest"] = img.digest
    return body


_MEDIA_TYPES = [
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.index.v1+json",
]


def repo_entry_json(repo: Repository) -> dict[str, Any]:
    """A ``repository_list_entry`` (``GET /v2/namespaces/{ns}/repositories`` results)."""
    return {
        "name": repo.name,
        "namespace": repo.namespace,
        "repository_type": "image",
        "status": 1,
        "status_description": "active",
        "description": repo.description,
        "is_private": repo.is_private,
        "star_count": repo.star_count,
        "pull_count": repo.pull_count,
        "last_updated": _opt_ts(repo.updated),
        "last_modified": format_ts(repo.modified),
        "date_registered": format_ts(repo.created),
        "affiliation": "",
        "media_types": list(_MEDIA_TYPES) if repo.images else [],
        "content_types": ["image"] if repo.images else [],
        "categories": [],
        "storage_size": repo.storage_size(),
    }


def repo_info_json(repo: Repository, level: int) -> dict[str, Any]:
    """A ``repository_info`` (``GET …/repositories/{repo}``, and the seed's PATCH answer)."""
    return {
        "user": repo.namespace,
        "name": repo.name,
        "namespace": repo.namespace,
        "repository_type": "image",
        "status": 1,
        "status_description": "active",
        "description": repo.description,
        "is_private": repo.is_private,
        "is_automated": False,
        "star_count": repo.star_count,
        "pull_count": repo.pull_count,
        "last_updated": format_ts(repo.updated if repo.updated is not None else repo.created),
        "last_modified": format_ts(repo.modified),
        "date_registered": format_ts(repo.created),
        "collaborator_count": 0,
        "affiliation": None,
        "hub_user": repo.namespace,
        "has_starred": False,
        "full_description": repo.full_description,
        "permissions": {"read": level >= READ, "write": level >= WRITE, "admin": level >= ADMIN},
        "media_types": list(_MEDIA_TYPES) if repo.images else [],
        "content_types": ["image"] if repo.images else [],
        "categories": [],
        "immutable_tags_settings": {
            "enabled": bool(repo.immutable_rules),
            "rules": list(repo.immutable_rules),
        },
        "storage_size": repo.storage_size(),
        "source": None,
    }


def token_json(token: Pat, *, reveal: bool) -> dict[str, Any]:
    """An ``accessToken``; the secret only when ``reveal`` (the create answer), else ``""``."""
    body: dict[str, Any] = {
        "uuid": token.uuid,
        "client_id": "HUB",
        "creator_ip": token.creator_ip,
        "creator_ua": token.creator_ua,
        "created_at": format_ts(token.created),
        "last_used": _opt_ts(token.last_used),
        "generated_by": token.generated_by,
        "is_active": token.is_active,
        "token": token.secret if reveal else "",
        "token_label": token.label,
        "scopes": list(token.scopes),
    }
    if token.expires_at is not None:
        body["expires_at"] = format_ts(token.expires_at)
    return body


def event_json(event: Event) -> dict[str, Any]:
    """An ``AuditLog`` event."""
    return {
        "account": event.account,
        "action": event.action,
        "name": event.name,
        "actor": event.actor,
        "data": event.data,
        "timestamp": format_ts(event.ts, 0),
        "action_description": event.description,
    }


AUDIT_ACTIONS: dict[str, Any] = {
    "actions": {
        "org": {
            "actions": [
                {"name": "create", "description": "contains organization create events",
                 "label": "Organization Created"},
                {"name": "settings.update", "description": "contains organization settings "
                 "update events", "label": "Organization Settings Updated"},
                {"name": "member.add", "description": "contains org member add events",
                 "label": "Organization Member Added"},
                {"name": "member.remove", "description": "contains org member remove events",
                 "label": "Organization Member Removed"},
            ],
            "label": "Organization",
        },
        "repo": {
            "actions": [
                {"name": "create", "description": "contains repository create events",
                 "label": "Repository Created"},
                {"name": "update", "description": "contains repository update events",
                 "label": "Repository Updated"},
                {"name": "delete", "description": "contains repository delete events",
                 "label": "Repository Deleted"},
                {"name": "change_privacy", "description": "contains repository privacy change "
                 "events", "label": "Privacy Changed"},
                {"name": "tag.push", "description": "contains image tag push events",
                 "label": "Tag Pushed"},
                {"name": "tag.delete", "description": "contains image tag delete events",
                 "label": "Tag Deleted"},
                {"name": "image.delete", "description": "contains image delete events",
                 "label": "Image Deleted"},
            ],
            "label": "Repository",
        },
        "account": {
            "actions": [
                {"name": "access_token.create", "description": "contains personal access "
                 "token create events", "label": "Access Token Created"},
                {"name": "access_token.update", "description": "contains personal access "
                 "token update events", "label": "Access Token Updated"},
                {"name": "access_token.delete", "description": "contains personal access "
                 "token delete events", "label": "Access Token Deleted"},
            ],
            "label": "Account",
        },
    }
}  # fmt: skip
"""The body of ``GET /v2/auditlogs/{account}/actions``: every action FakeHub records."""

AUDIT_ACTIONS_BODY = dumps(AUDIT_ACTIONS)


def page_links(
    public_url: str,
    raw_path: str,
    query: list[tuple[str, str]],
    page: int,
    has_next: bool,
) -> tuple[str | None, str | None]:
    """Absolute ``next``/``previous`` URLs the way Hub (Django REST framework) builds them.

    The request's query is kept, ``page`` replaced, parameters sorted; the link to page 1
    drops ``page`` altogether.
    """
    params = [(k, v) for k, v in query if k != "page"]

    def link(number: int) -> str:
        items = sorted(params + ([("page", str(number))] if number > 1 else []))
        qs = urlencode(items)
        return f"{public_url}{raw_path}?{qs}" if qs else f"{public_url}{raw_path}"

    return (link(page + 1) if has_next else None, link(page - 1) if page > 1 else None)
