"""The seed's image API: summary, list, an image's tags, delete-images. Retired on Hub
since 2023-12-11: an HTML 404 unless FakeHub's ``image_api`` is on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .._clock import format_ts, parse_ts
from .._http import (
    CONTEXT,
    HubHTTPError,
    json_response,
)
from .._render import (
    image_tags,
    images_page,
)
from .._state import (
    READ,
    WRITE,
    Namespace,
    Principal,
    Repository,
    default_active_from,
)
from ._base import Area

__all__ = ["ImagesArea"]

_IMAGE_ORDERINGS = ("last_activity", "-last_activity", "digest", "-digest")


class ImagesArea(Area):
    """The seed's image API (retired on Hub: an HTML 404 unless ``image_api``)."""

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        repo = "/v2/namespaces/{namespace}/repositories/{repository}"
        self.add(app, "GET", repo + "/images-summary", self.images_summary)
        self.add(app, "GET", repo + "/images", self.images_list)
        self.add(app, "GET", repo + "/images/{digest}/tags", self.image_tags)
        self.add(app, "POST", "/v2/namespaces/{namespace}/delete-images", self.delete_images)

    def _aim_error(
        self, request: web.Request, status: int, message: str, op: str, **errinfo: Any
    ) -> HubHTTPError:
        txnid = self.state.new_uuid()
        principal = CONTEXT.get().principal
        info: dict[str, Any] = {
            "api_call_docker_id": principal.sub if principal is not None else "",
            "api_call_name": op,
            "api_call_start": format_ts(self.now()),
            "api_call_txnid": txnid,
            **errinfo,
        }
        return HubHTTPError(status, {"txnid": txnid, "message": message, "errinfo": info})

    def _active_from(self, raw: Any, style_error: Callable[[str], HubHTTPError]) -> float:
        if raw is None or raw == "":
            return default_active_from(self.now())
        if not isinstance(raw, str):
            raise style_error("active_from must be an RFC 3339 date-time string")
        try:
            return parse_ts(raw)
        except ValueError:
            raise style_error(f"active_from is not an RFC 3339 date-time: {raw!r}") from None

    def _namespace_for_images(
        self, request: web.Request, op: str, level: int = READ
    ) -> tuple[Principal, Namespace]:
        who = self.api._who(request, "aim")
        name = request.match_info["namespace"]
        ns = self.state.namespaces.get(name)
        if ns is None:
            raise self._aim_error(request, 404, f"namespace {name} not found", op)
        if ns.level(who) < level:
            raise self._aim_error(
                request, 403, f"you do not have access to the namespace {name}", op
            )
        return who, ns

    def _repo_for_images(self, request: web.Request, op: str) -> tuple[Namespace, Repository]:
        _, ns = self._namespace_for_images(request, op)
        name = request.match_info["repository"]
        repo = ns.repos.get(name)
        if repo is None:
            raise self._aim_error(request, 404, f"repository {ns.name}/{name} not found", op)
        return ns, repo

    async def images_summary(self, request: web.Request) -> web.StreamResponse:
        """GET …/images-summary: totals that agree with the image list."""
        if not self.api.image_api:
            return _retired()
        op = "GetNamespacesRepositoriesImagesSummary"
        _, repo = self._repo_for_images(request, op)
        active_from = self._active_from(
            request.query.get("active_from"), lambda m: self._aim_error(request, 400, m, op)
        )
        total = len(repo.images)
        active = repo.count_active(active_from)
        return json_response(
            200,
            {
                "active_from": format_ts(active_from, 9),
                "statistics": {"total": total, "active": active, "inactive": total - active},
            },
        )

    async def images_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/images: filter by status / currently_tagged, order, paginate."""
        if not self.api.image_api:
            return _retired()
        op = "GetNamespacesRepositoriesImages"
        ns, repo = self._repo_for_images(request, op)
        q = request.query

        def bad(message: str) -> HubHTTPError:
            return self._aim_error(request, 400, message, op)

        active_from = self._active_from(q.get("active_from"), bad)
        status = q.get("status")
        if status not in (None, "active", "inactive"):
            raise bad("status must be 'active' or 'inactive'")
        tagged_raw = q.get("currently_tagged")
        if tagged_raw not in (None, "true", "false", "True", "False", "1", "0"):
            raise bad("currently_tagged must be true or false")
        tagged = None if tagged_raw is None else tagged_raw in ("true", "True", "1")
        ordering = q.get("ordering") or "-last_activity"
        if ordering not in _IMAGE_ORDERINGS:
            raise bad(f"ordering must be one of {', '.join(_IMAGE_ORDERINGS)}")
        page, size = self.api._page(request, 10, "aim")
        images = repo.sorted_images(ordering)
        if status is not None:
            want = status == "active"
            images = [i for i in images if (i.activity >= active_from) is want]
        if tagged is not None:
            images = [i for i in images if bool(i.tags) is tagged]
        chunk, nxt, prev = self.api._paged(request, images, page, size)
        body = images_page(ns.name, repo.name, chunk, len(images), (nxt, prev), active_from)
        return web.Response(status=200, body=body, content_type="application/json")

    async def image_tags(self, request: web.Request) -> web.StreamResponse:
        """GET …/images/{digest}/tags: current then historical tags of one image."""
        if not self.api.image_api:
            return _retired()
        op = "GetNamespacesRepositoriesImagesTags"
        _, repo = self._repo_for_images(request, op)
        digest = request.match_info["digest"]
        img = repo.images.get(digest)
        if img is None:
            raise self._aim_error(request, 404, f"image {digest} not found", op)
        page, size = self.api._page(request, 10, "aim")
        tags = image_tags(img)
        return json_response(200, self.listing(request, tags, size=(page, size)))

    async def delete_images(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/namespaces/{ns}/delete-images: warnings, errors, dry run, deletion."""
        if not self.api.image_api:
            return _retired()
        op = "PostNamespacesDeleteImages"
        who, ns = self._namespace_for_images(request, op)

        def invalid(message: str) -> HubHTTPError:
            return self._aim_error(
                request, 400, message, op, type="validation", details={"errors": [], "warnings": []}
            )

        body = CONTEXT.get().json
        if not isinstance(body, dict):
            raise invalid("the request body must be a JSON object")
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise invalid("dry_run must be a boolean")
        active_from = self._active_from(body.get("active_from"), invalid)
        manifests = _manifest_list(body.get("manifests"), invalid)
        if not manifests:
            raise invalid("manifests must list at least one {repository, digest}")
        if len({repo for repo, _ in manifests}) > 1:
            raise invalid("deleting images is limited to a single repository per request")
        ignore = _ignore_list(body.get("ignore_warnings"), invalid)
        outcome = self.state.delete_images(
            ns,
            manifests,
            ignore,
            active_from,
            can_write=ns.level(who) >= WRITE,
            dry_run=dry_run,
            actor=who.sub or "fakehub",
        )
        if outcome.errors or outcome.warnings:
            raise self._aim_error(
                request,
                400,
                "deletion not possible",
                op,
                type="validation",
                details={"errors": outcome.errors, "warnings": outcome.warnings},
            )
        return json_response(
            200,
            {
                "dry_run": dry_run,
                "metrics": {
                    "manifest_deletes": outcome.manifest_deletes,
                    "manifest_errors": 0,
                    "tag_deletes": outcome.tag_deletes,
                    "tag_errors": 0,
                },
            },
        )


_RETIRED_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    b"<title>Docker Hub | 404 Page Not Found</title></head>\n<body>\n"
    b"<h1>404</h1><p>Page Not Found</p>\n</body>\n</html>\n"
)


def _retired() -> web.Response:
    """What Hub answers since 2023-12-11 for the retired image API: a 404 HTML page."""
    return web.Response(status=404, body=_RETIRED_PAGE, content_type="text/html")


def _manifest_list(value: Any, invalid: Callable[[str], HubHTTPError]) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("manifests must be a list of {repository, digest}")
    out: list[tuple[str, str]] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("repository"), str)
            or not isinstance(item.get("digest"), str)
        ):
            raise invalid("each manifest needs a repository and a digest (strings)")
        out.append((item["repository"], item["digest"]))
    return out


def _ignore_list(
    value: Any, invalid: Callable[[str], HubHTTPError]
) -> list[tuple[str, str, str, tuple[str, ...] | None]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("ignore_warnings must be a list")
    out: list[tuple[str, str, str, tuple[str, ...] | None]] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("repository"), str)
            or not isinstance(item.get("digest"), str)
            or item.get("warning") not in ("is_active", "current_tag")
        ):
            raise invalid(
                "each ignored warning needs repository, digest and warning "
                "(is_active or current_tag)"
            )
        tags = item.get("tags")
        if tags is not None and (
            not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
        ):
            raise invalid("ignore_warnings[].tags must be a list of strings")
        out.append(
            (item["repository"], item["digest"], item["warning"], tuple(tags) if tags else None)
        )
    return out
