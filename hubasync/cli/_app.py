"""The ``hubasync`` click application: audit, prune, tokens, repos, tags, demo (and, from
:mod:`._access` and :mod:`._orgs`, access, members, groups, invites, org-tokens, repos create).

Every command builds its own event loop (``asyncio.run``) and one :class:`HubClient`; data
goes to stdout (or ``--output``), everything else (progress, notes, ``error:`` lines) to
stderr. See :mod:`hubasync.cli._common` for credentials and exit codes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO, cast

import click

from .. import _validate as v
from .._version import __version__
from ..audit import AuditReport, Source, audit_namespaces, ends_run
from ..errors import HubError, NotFoundError
from ..models import RestrictedImages
from ..models.access_tokens import ACCESS_TOKEN_SCOPES, AccessTokenScope
from ..prune import apply_prune, check_glob, plan_tag_prune
from ._access import access
from ._audit import audit_sink, run_audit, stderr_console, summary_line
from ._common import (
    EXIT_CODES,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_PARTIAL,
    Connection,
    connection_options,
    error_line,
    exit_for,
    expires_option,
    format_option,
    global_options,
    list_format_option,
    parse_repository,
    parse_when,
    run,
    setup_logging,
    when_option,
)
from ._orgs import groups, invites, members, org_tokens, repos_create
from ._output import json_value, row_sink
from ._prune import (
    TAG_COLUMNS,
    image_rows,
    immutable_rules,
    parse_age,
    prune_record,
    prune_repository,
    split_targets,
    tag_prune_record,
    tag_prune_rows,
    tag_prune_summary,
)

__all__ = ["cli"]


@contextlib.contextmanager
def _output(path: str, *, buffered: bool = False) -> Iterator[TextIO]:
    """stdout for ``-`` (with ``buffered``, what was written reaches stdout only when the
    block ends without an error: never half a JSON document), else the file. A regular file
    (or a new one) is written beside its real path and moved in place only when the whole
    report is written, so a failed run never leaves half a report over the last one; it
    keeps the old file's mode. Anything else (a FIFO, a device such as /dev/stdout) is
    written to directly."""
    if path == "-":
        if not buffered:
            yield sys.stdout
            return
        buffer = io.StringIO()
        yield buffer
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return
    target = os.path.realpath(path)  # through a symlink: the link stays, its file changes
    try:
        st_mode = os.stat(target).st_mode
        mode: int | None = stat.S_IMODE(st_mode)
        regular = stat.S_ISREG(st_mode)
    except FileNotFoundError:
        mode, regular = None, True
    if not regular:
        with open(target, "w", encoding="utf-8", newline="") as direct:
            yield direct
        return
    handle = tempfile.NamedTemporaryFile(  # closed below, on every path
        "w",
        encoding="utf-8",
        newline="",
        dir=os.path.dirname(target),
        prefix=f".{os.path.basename(target)}.",
        suffix=".partial",
        delete=False,
    )
    try:
        with handle:
            yield cast(TextIO, handle)
        if mode is None:  # a new file: the mode open() would have given (not 0600)
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _namespaces(names: tuple[str, ...]) -> list[str]:
    for name in names:
        v.namespace(name)
    return list(dict.fromkeys(names))


_EXIT_HELP = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f"""\b
Exit codes:
{_EXIT_HELP}

Output: --format json is one JSON document written only once complete (an interrupted run
prints none); --format jsonl (listings) and csv stream one record per line, valid up to
where a run stopped. Data goes to stdout, progress, logs and `error:` lines to stderr.""",
)
@click.version_option(__version__, prog_name="hubasync")
@global_options
def cli() -> None:
    """hubasync: audit and tidy Docker Hub namespaces from the shell.

    Credentials: DOCKERHUB_USERNAME and DOCKERHUB_TOKEN (a PAT, org token or password), or
    --username with the token on standard input (--token-stdin). Never pass a secret as
    an argument. The options below are accepted before or after the subcommand
    (`hubasync --base-url URL repos list NS` or `hubasync repos list NS --base-url URL`).
    """


# ------------------------------------------------------------------------------ audit


@cli.command()
@connection_options
@click.argument("namespaces", nargs=-1, required=True)
@when_option
@click.option(
    "--source",
    type=click.Choice(("auto", "tags", "images")),
    default="auto",
    show_default=True,
    help="Where activity comes from: tags (today's Hub), images (the seed's image API, "
    "retired on Hub since 2023-12-11), or auto (ask the image API once; on Hub's 404 use tags).",
)
@click.option(
    "--include-tags", is_flag=True, help="With the images source, also audit the current tags."
)
@format_option
@click.option(
    "--output",
    "-o",
    default="-",
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Repositories audited (and requests in flight) at once.",
)
def audit(
    connection: Connection,
    namespaces: tuple[str, ...],
    active_from: datetime | None,
    source: str,
    include_tags: bool,
    fmt: str,
    output: str,
    concurrency: int,
) -> None:
    """Audit every repository of NAMESPACES: tags, activity, storage, stale repositories.

    On today's Hub (the default --source auto finds the image API retired with one request)
    each repository's tags are listed: every tag with its digest, status, last push and
    pull, size and platforms; tag counts (active/inactive), the platform images, the
    repository's storage, and whether it is stale (no push or pull since --active-from,
    default Hub's past month). Untagged manifests are not visible through Hub's API today.
    With the seed's image API (--source images), counts total, active and inactive images
    and lists the inactive ones. A repository or namespace that fails (403...) is reported
    on stderr, and a namespace that lists nothing is a warning; the run goes on (exit 3
    when some repositories were audited, 1 when none was).
    A progress bar shows on stderr when it is a terminal.
    """

    async def main() -> int:
        names = _namespaces(namespaces)
        progress = stderr_console()
        async with connection.client(max_concurrency=concurrency) as hub:
            with _output(output, buffered=fmt == "json") as out:
                sink = audit_sink(fmt, out, active_from=active_from, include_tags=include_tags)
                report = await run_audit(
                    hub,
                    names,
                    sink,
                    source=cast(Source, source),
                    active_from=active_from,
                    include_tags=include_tags,
                    concurrency=concurrency,
                    progress_console=progress,
                )
            if progress is not None:
                progress.print(summary_line(report, hub.stats), markup=False, highlight=False)
        return audit_exit_code(report)

    run(connection.debug, main)


def audit_exit_code(report: AuditReport) -> int:
    """0 when every repository was audited cleanly, 3 (partial) when some were and others
    failed or warned, 1 when none was audited. Pure."""
    if report.ok:
        return EXIT_OK
    audited = report.totals.repositories - report.totals.failed_repositories
    return EXIT_PARTIAL if audited > 0 else EXIT_FAILURE


# ------------------------------------------------------------------------------ prune


@cli.command()
@connection_options
@click.argument("targets", metavar="NS|NS/REPO...", nargs=-1, required=True)
@click.option(
    "--inactive",
    is_flag=True,
    help="Select tags not pushed or pulled since the cutoff (--older-than). Required.",
)
@click.option(
    "--older-than",
    metavar="AGE",
    help="The cutoff: no push or pull for AGE (90d, 12h, 8w). Default 30d, Hub's month.",
)
@click.option(
    "--keep",
    metavar="N",
    default="1",
    show_default=True,
    help="Keep the N most recently pushed tags of each repository.",
)
@click.option("--match", "match", multiple=True, metavar="GLOB", help="Only tags matching GLOB.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Never tags matching GLOB.")
@click.option(
    "--source",
    type=click.Choice(("tags", "images")),
    default="tags",
    show_default=True,
    help="tags: delete tags (today's Hub). images: the seed's delete-images path for one "
    "NS/REPO (retired on Hub since 2023-12-11; works where the image API is served).",
)
@click.option(
    "--untagged",
    is_flag=True,
    help="(image API only: implies --source images) Select images no current tag points at.",
)
@when_option
@click.option(
    "--yes",
    is_flag=True,
    help="Delete for real (default: a dry run that prints every planned deletion).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Tags deleted at once (under the shared rate budget).",
)
@format_option
def prune(
    connection: Connection,
    targets: tuple[str, ...],
    inactive: bool,
    older_than: str | None,
    keep: str,
    match: tuple[str, ...],
    exclude: tuple[str, ...],
    source: str,
    untagged: bool,
    active_from: datetime | None,
    yes: bool,
    concurrency: int,
    fmt: str,
) -> None:
    """Delete the inactive tags of namespaces or repositories (dry run by default).

    On today's Hub: audits the tags of every target (NS or NS/REPO), plans and prints every
    deletion with its reason, and with --yes deletes those tags. Never deletes a tag pushed
    or pulled after the cutoff (--older-than, default 30d), nor one whose pulls Hub does not
    record (an old tag without tag or image timestamps); keeps the --keep N most recently
    pushed tags of each repository (default 1); --match/--exclude filter by glob. Immutable
    tags Hub refuses are skipped and reported; a tag already gone counts as done, so a
    re-run deletes nothing; a permission error on one repository is reported and the run
    goes on. Untagged manifests are not visible on today's Hub.

    With --source images (or --untagged), the seed's path for one NS/REPO: Hub's
    delete-images, dry run first, in batches of 100 manifests; a warning is passed back as
    ignore_warnings only where the selection already accepted it (tags of images
    --inactive selected); an image Hub counts as active, or one tagged since --untagged
    listed it, is kept and reported.
    """
    if untagged:
        source = "images"
    if source == "images":
        if len(targets) != 1:
            raise click.BadParameter(
                "the images source prunes one repository: pass exactly one NAMESPACE/REPOSITORY",
                param_hint="NS/REPO",
            )
        _prune_images(connection, targets[0], inactive, untagged, active_from, yes, fmt)
        return
    if not inactive:
        raise click.UsageError(
            "choose the tags: --inactive (prune never selects every tag); see --help"
        )
    try:
        keep_n = int(keep)
        if keep_n < 0:
            raise ValueError
    except ValueError:
        raise click.BadParameter(
            f"{keep!r} is not a number of tags to keep: pass 0 or more (default 1)",
            param_hint="--keep",
        ) from None
    try:
        age = parse_age(older_than) if older_than is not None else timedelta(days=30)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    for hint, patterns in (("--match", match), ("--exclude", exclude)):
        for pattern in patterns:
            try:
                check_glob(pattern, hint)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint=hint) from None
    try:
        namespaces, only = split_targets(targets)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NS|NS/REPO") from None
    cutoff = datetime.now(UTC) - age

    async def main() -> int:
        async with connection.client() as hub:
            audits = []
            async for audit in audit_namespaces(
                hub, namespaces, source="tags", active_from=cutoff, repositories=only
            ):
                audits.append(audit)
            plan = plan_tag_prune(audits, cutoff=cutoff, keep=keep_n, match=match, exclude=exclude)
            # Immutable tags: the listing may not say; ask each repository with deletions.
            rules = await immutable_rules(hub, plan, audits, concurrency)
            if rules:
                plan = plan_tag_prune(
                    audits,
                    cutoff=cutoff,
                    keep=keep_n,
                    match=match,
                    exclude=exclude,
                    immutable_rules=rules,
                )
            result = await apply_prune(hub, plan, concurrency=concurrency) if yes else None
        if fmt == "json":
            sys.stdout.write(json.dumps(json_value(tag_prune_record(plan, result))) + "\n")
        else:
            title = "Tags to delete" if result is None else "Tags deleted"
            sink = row_sink(fmt, sys.stdout, TAG_COLUMNS, title=title)
            for row in tag_prune_rows(plan, result):
                sink.add(row)
            sink.close()
        click.echo(tag_prune_summary(plan, result), err=True)
        for audit in plan.failed:
            for failure in audit.errors:
                error_line(f"{audit.full_name}: {failure.message}")
        for audit in plan.warnings:
            for warning in audit.warnings:
                click.echo(f"warning: {audit.full_name}: {warning}", err=True)
        problems = [
            o for o in (result.outcomes if result else ()) if o.status in ("failed", "skipped")
        ]
        for outcome in problems:
            if outcome.failure is not None:
                error_line(f"{outcome.deletion.full_name}: {outcome.failure.message}")
        for outcome in result.by_status("immutable") if result else ():
            click.echo(f"skipped: {outcome.deletion.full_name} is immutable", err=True)
        if not problems and not plan.failed and not plan.warnings:
            return EXIT_OK
        done = result is not None and any(o.done for o in result.outcomes)
        return EXIT_PARTIAL if done or (result is None and plan.deletions) else EXIT_FAILURE

    run(connection.debug, main)


def _prune_images(
    connection: Connection,
    target: str,
    inactive: bool,
    untagged: bool,
    active_from: datetime | None,
    yes: bool,
    fmt: str,
) -> None:
    """The seed's path: delete-images for one repository (see ``prune --help``)."""
    try:
        namespace, repository = parse_repository(target)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NS/REPO") from None
    if not inactive and not untagged:
        raise click.UsageError(
            "choose the images: --inactive and/or --untagged (prune never selects every image)"
        )

    async def main() -> int:
        v.namespace(namespace)
        v.repository(repository)
        async with connection.client() as hub:
            result = await prune_repository(
                hub,
                namespace,
                repository,
                inactive=inactive,
                untagged=untagged,
                active_from=active_from,
                delete=yes,
            )
        out = sys.stdout
        if fmt == "json":
            out.write(json.dumps(json_value(prune_record(result))) + "\n")
        else:
            columns = ["digest", "last_pushed", "last_pulled", "tags", "warnings", "errors"]
            sink = row_sink(
                fmt, out, columns, title=f"Images of {namespace}/{repository} to delete"
            )
            for row in image_rows(result):
                sink.add(row)
            sink.close()
        m = result.metrics
        selected = len(result.selected)
        if not selected:
            click.echo("nothing to prune: no image matches the filters", err=True)
        elif result.dry_run:
            click.echo(
                f"dry run: {selected} images selected; Hub would delete {m.manifest_deletes} "
                f"manifests and {m.tag_deletes} tags ({len(result.warnings)} warnings, "
                f"{len(result.kept)} images kept for them, {len(result.errors)} errors). "
                "Run again with --yes to delete.",
                err=True,
            )
        else:
            ignored = len(result.warnings) - len(result.kept)
            click.echo(
                f"deleted {m.manifest_deletes} manifests and {m.tag_deletes} tags of "
                f"{namespace}/{repository} ({ignored} warnings ignored, "
                f"{len(result.kept)} images kept: Hub counts them as active or tagged)",
                err=True,
            )
        for failure in result.errors:
            error_line(
                f"{namespace}/{repository}@{failure.digest}: cannot delete ({failure.error})"
            )
        # Some images deleted (or deletable) while others failed: partial, not "nothing worked".
        return exit_for(len({f.digest for f in result.errors}), len(result.selected))

    run(connection.debug, main)


# ----------------------------------------------------------------------------- tokens

_TOKEN_COLUMNS = ["uuid", "label", "scopes", "active", "created_at", "last_used", "expires_at"]


def _token_row(token: Any) -> dict[str, Any]:
    return {
        "uuid": token.uuid,
        "label": token.token_label,
        "scopes": list(token.scopes),
        "active": token.is_active,
        "created_at": token.created_at,
        "last_used": token.last_used,
        "expires_at": token.expires_at,
    }


@cli.group()
def tokens() -> None:
    """Personal access tokens of the authenticated user."""


@tokens.command("list")
@connection_options
@list_format_option
def tokens_list(connection: Connection, fmt: str) -> None:
    """List the tokens (never their secret values)."""

    async def main() -> int:
        async with connection.client() as hub:
            sink = row_sink(fmt, sys.stdout, _TOKEN_COLUMNS, title="Access tokens")
            async for token in hub.access_tokens.list():
                sink.add(_token_row(token))
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@tokens.command("create")
@connection_options
@click.argument("label")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(ACCESS_TOKEN_SCOPES),
    help="A scope to grant (repeatable).",
)
@expires_option
@format_option
def tokens_create(
    connection: Connection,
    label: str,
    scopes: tuple[str, ...],
    expires_at: datetime | None,
    fmt: str,
) -> None:
    """Create a token labelled LABEL and print its value (shown this once only)."""

    async def main() -> int:
        async with connection.client() as hub:
            chosen = cast(list[AccessTokenScope], list(scopes))  # click.Choice checked them
            token = await hub.access_tokens.create(label, chosen, expires_at=expires_at)
        row = {**_token_row(token), "token": token.token}
        if fmt == "table":
            click.echo(token.token)
            click.echo(
                f"created token {token.uuid} ({token.token_label}; "
                f"{', '.join(token.scopes)}): store the value now, Hub never shows it again",
                err=True,
            )
        else:
            sink = row_sink(fmt, sys.stdout, [*_TOKEN_COLUMNS, "token"])
            sink.add(row)
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@tokens.command("revoke")
@connection_options
@click.argument("uuid")
def tokens_revoke(connection: Connection, uuid: str) -> None:
    """Delete the token UUID for good."""

    async def main() -> int:
        async with connection.client() as hub:
            await hub.access_tokens.delete(uuid)
        click.echo(f"revoked token {uuid}", err=True)
        return EXIT_OK

    run(connection.debug, main)


def _print_one(fmt: str, row: dict[str, Any], *, title: str) -> None:
    """One record on stdout in ``fmt`` (its keys are the columns)."""
    sink = row_sink(fmt, sys.stdout, list(row), title=title)
    sink.add(row)
    sink.close()


def _set_token_active(connection: Connection, uuid: str, active: bool) -> None:
    async def main() -> int:
        async with connection.client() as hub:
            token = await hub.access_tokens.update(uuid, is_active=active)
        state = "active" if token.is_active else "inactive"
        click.echo(f"token {token.uuid} ({token.token_label}) is {state}", err=True)
        return EXIT_OK

    run(connection.debug, main)


@tokens.command("activate")
@connection_options
@click.argument("uuid")
def tokens_activate(connection: Connection, uuid: str) -> None:
    """Let the token UUID be used again."""
    _set_token_active(connection, uuid, True)


@tokens.command("deactivate")
@connection_options
@click.argument("uuid")
def tokens_deactivate(connection: Connection, uuid: str) -> None:
    """Stop the token UUID from working (reversible, unlike revoke)."""
    _set_token_active(connection, uuid, False)


@tokens.command("inspect")
@connection_options
@click.argument("uuid")
@format_option
def tokens_inspect(connection: Connection, uuid: str, fmt: str) -> None:
    """Show the token UUID: label, scopes, state, creation, last use, expiry (never its value)."""

    async def main() -> int:
        async with connection.client() as hub:
            token = await hub.access_tokens.get(uuid)
        row = {
            **_token_row(token),
            "created_by": token.creator_ua,
            "created_from": token.creator_ip,
            "generated_by": token.generated_by,
        }
        _print_one(fmt, row, title=f"Access token {token.uuid}")
        return EXIT_OK

    run(connection.debug, main)


# ------------------------------------------------------------------------ repos, tags


@cli.group()
def repos() -> None:
    """Repositories of a namespace."""


@repos.command("list")
@connection_options
@click.argument("namespace")
@click.option("--name", "name_filter", help="Only repositories whose name contains this.")
@list_format_option
def repos_list(connection: Connection, namespace: str, name_filter: str | None, fmt: str) -> None:
    """List the repositories of NAMESPACE (public ones only without credentials)."""
    columns = ["name", "private", "pulls", "stars", "last_updated", "description"]

    async def main() -> int:
        async with connection.client() as hub:
            listing = hub.repositories.list(namespace, name=name_filter)
            sink = row_sink(fmt, sys.stdout, columns, title=f"Repositories of {namespace}")
            async for repo in listing:
                sink.add(
                    {
                        "name": repo.name,
                        "private": repo.is_private,
                        "pulls": repo.pull_count,
                        "stars": repo.star_count,
                        "last_updated": repo.last_updated,
                        "description": repo.description,
                    }
                )
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@cli.group()
def tags() -> None:
    """Tags of a repository."""


@tags.command("list")
@connection_options
@click.argument("target", metavar="NS/REPO")
@list_format_option
def tags_list(connection: Connection, target: str, fmt: str) -> None:
    """List the current tags of NS/REPO, most recently pushed first."""
    try:
        namespace, repository = parse_repository(target)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NS/REPO") from None
    columns = ["name", "digest", "size", "last_pushed", "last_pulled", "status"]

    async def main() -> int:
        async with connection.client() as hub:
            sink = row_sink(fmt, sys.stdout, columns, title=f"Tags of {namespace}/{repository}")
            async for tag in hub.repositories.tags(namespace, repository):
                status = tag.tag_status or tag.status
                digest = tag.digest
                if digest is None and len(tag.images) == 1:
                    digest = tag.images[0].digest
                sink.add(
                    {
                        "name": tag.name,
                        "digest": digest,
                        "size": tag.full_size,
                        "last_pushed": tag.tag_last_pushed,
                        "last_pulled": tag.tag_last_pulled,
                        "status": str(status) if status is not None else None,
                    }
                )
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@tags.command("rm")
@connection_options
@click.argument("target", metavar="NS/REPO")
@click.argument("names", metavar="TAG...", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Delete without asking.")
def tags_rm(connection: Connection, target: str, names: tuple[str, ...], yes: bool) -> None:
    """Delete the tags TAG... of NS/REPO (asks first unless --yes).

    The images the tags pointed at stay. A tag that is already gone is reported and
    counts as done; an immutable tag Hub refuses is reported (exit 1).
    """
    try:
        namespace, repository = parse_repository(target)
        v.namespace(namespace)
        v.repository(repository)
        for name in names:
            v.tag(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NS/REPO TAG...") from None
    unique = list(dict.fromkeys(names))
    listed = ", ".join(unique)
    if not yes and not click.confirm(
        f"Delete {len(unique)} tag(s) of {namespace}/{repository}: {listed}?", err=True
    ):
        click.echo("nothing deleted", err=True)
        raise SystemExit(EXIT_FAILURE)

    async def main() -> int:
        failed = 0
        async with connection.client() as hub:
            for name in unique:
                try:
                    await hub.repositories.delete_tag(namespace, repository, name)
                except NotFoundError:
                    click.echo(f"{namespace}/{repository}:{name} is already gone", err=True)
                    continue
                except HubError as exc:
                    if ends_run(exc):
                        raise
                    failed += 1
                    error_line(f"{namespace}/{repository}:{name}: {exc.message}")
                    continue
                click.echo(f"deleted {namespace}/{repository}:{name}", err=True)
        return exit_for(failed, len(unique))

    run(connection.debug, main)


# ------------------------------------------------------------------------ orgs settings


@cli.group()
def orgs() -> None:
    """Organizations."""


@orgs.group("settings")
def orgs_settings() -> None:
    """An organization's settings (image access restrictions)."""


def _settings_row(org: str, settings: Any) -> dict[str, Any]:
    restricted = settings.restricted_images
    return {
        "org": org,
        "restricted_images": restricted.enabled if restricted else None,
        "allow_official_images": restricted.allow_official_images if restricted else None,
        "allow_verified_publishers": restricted.allow_verified_publishers if restricted else None,
    }


@orgs_settings.command("get")
@connection_options
@click.argument("org")
@format_option
def orgs_settings_get(connection: Connection, org: str, fmt: str) -> None:
    """Show the settings of ORG (needs an owner's credentials)."""

    async def main() -> int:
        async with connection.client() as hub:
            settings = await hub.orgs.settings(org)
        _print_one(fmt, _settings_row(org, settings), title=f"Settings of {org}")
        return EXIT_OK

    run(connection.debug, main)


@orgs_settings.command("set")
@connection_options
@click.argument("org")
@click.option(
    "--restricted-images/--no-restricted-images",
    "enabled",
    default=None,
    help="Restrict the images the organization's users may pull.",
)
@click.option(
    "--allow-official-images/--no-allow-official-images",
    "official",
    default=None,
    help="While restricted, allow Docker Official Images.",
)
@click.option(
    "--allow-verified-publishers/--no-allow-verified-publishers",
    "verified",
    default=None,
    help="While restricted, allow Verified Publisher images.",
)
@format_option
def orgs_settings_set(
    connection: Connection,
    org: str,
    enabled: bool | None,
    official: bool | None,
    verified: bool | None,
    fmt: str,
) -> None:
    """Change the settings of ORG; what is not given keeps its current value."""
    if enabled is None and official is None and verified is None:
        raise click.UsageError(
            "nothing to change: pass --restricted-images/--no-restricted-images, "
            "--[no-]allow-official-images and/or --[no-]allow-verified-publishers"
        )

    async def main() -> int:
        async with connection.client() as hub:
            current = (await hub.orgs.settings(org)).restricted_images or RestrictedImages()
            wanted = RestrictedImages(
                enabled=_pick(enabled, current.enabled),
                allow_official_images=_pick(official, current.allow_official_images),
                allow_verified_publishers=_pick(verified, current.allow_verified_publishers),
            )
            settings = await hub.orgs.update_settings(org, wanted)
        _print_one(fmt, _settings_row(org, settings), title=f"Settings of {org}")
        return EXIT_OK

    run(connection.debug, main)


def _pick(given: bool | None, current: bool | None) -> bool:
    return given if given is not None else bool(current)


# ---------------------------------------------------------------------------- audit-log


@cli.group("audit-log")
def audit_log() -> None:
    """The audit log of an organization or user."""


@audit_log.command("ls")
@connection_options
@click.argument("account")
@click.option("--action", help="Only this action, e.g. repo.tag.push (see Hub's list).")
@click.option("--name", "name_filter", help="Only events about this name (e.g. a repository).")
@click.option("--actor", help="Only events triggered by this user.")
@click.option(
    "--from", "from_", metavar="DATE", help="Events since DATE (2024-05-01, ISO, or 30d ago)."
)
@click.option("--to", metavar="DATE", help="Events until DATE (same forms as --from).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many events.")
@list_format_option
def audit_log_ls(
    connection: Connection,
    account: str,
    action: str | None,
    name_filter: str | None,
    actor: str | None,
    from_: str | None,
    to: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """List the audit log events of ACCOUNT, newest first."""
    now = datetime.now(UTC)
    bounds: dict[str, datetime | None] = {}
    for flag, text in (("--from", from_), ("--to", to)):
        try:
            bounds[flag] = parse_when(text, now) if text is not None else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=flag) from None
    columns = ["timestamp", "action", "name", "actor", "description", "data"]

    async def main() -> int:
        async with connection.client() as hub:
            events = hub.audit_logs.list(
                account,
                action=action,
                name=name_filter,
                actor=actor,
                from_=bounds["--from"],
                to=bounds["--to"],
            )
            sink = row_sink(fmt, sys.stdout, columns, title=f"Audit log of {account}")
            async with contextlib.aclosing(events):
                shown = 0
                async for event in events:
                    sink.add(
                        {
                            "timestamp": event.timestamp,
                            "action": event.action,
                            "name": event.name,
                            "actor": event.actor,
                            "description": event.action_description,
                            "data": " ".join(f"{k}={v}" for k, v in sorted(event.data.items())),
                        }
                    )
                    shown += 1
                    if limit is not None and shown >= limit:
                        break
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


# ------------------------------------------------------------------------------- limits


@cli.command()
@connection_options
@format_option
def limits(connection: Connection, fmt: str) -> None:
    """Show Hub's rate limit for these credentials (after one cheap request).

    Anonymous callers are limited per IP address, authenticated ones per account.
    """

    async def main() -> int:
        async with connection.client() as hub:
            await hub.repositories.list("library", page_size=1, prefetch=1).to_list(limit=1)
            info = hub.rate_limit
        if info is None or info.limit is None:
            error_line(
                f"{connection.base_url} sent no X-RateLimit-* headers: it does not limit "
                "these requests, or a proxy removed the headers"
            )
            return EXIT_FAILURE
        reset = datetime.fromtimestamp(info.reset, UTC) if info.reset is not None else None
        row = {
            "limit": info.limit,
            "remaining": info.remaining,
            "resets_at": reset,
            "resets_in_s": (
                round(max(0.0, info.reset - (info.date or info.received_at)), 1)
                if info.reset is not None
                else None
            ),
            "account": connection.username or "anonymous (per IP address)",
        }
        _print_one(fmt, row, title=f"Rate limit at {connection.base_url}")
        return EXIT_OK

    run(connection.debug, main)


# ------------------------------------------------------------------------------ fakehub


@cli.group()
def fakehub() -> None:
    """A standalone FakeHub for trying the command line (or any client) without Hub."""


@fakehub.command(
    "serve",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def fakehub_serve(args: tuple[str, ...]) -> None:
    """Serve a seeded FakeHub until Ctrl-C, printing its URL and a user with a token.

    Options: --port, --seed, --namespaces, --repos, --rate-limit, --window, --image-api
    (`hubasync fakehub serve --help`). The same seed gives the same data and token. Also
    `python -m hubasync.testing`.
    """
    from ..testing._serve import main as serve_main

    setup_logging(_root_verbosity())
    click.get_current_context().exit(serve_main(args, prog="hubasync fakehub serve"))


def _root_verbosity() -> int:
    obj = click.get_current_context().find_root().obj or {}
    return int(obj.get("verbose") or 0)


# ------------------------------------------------ access audit, organization admin (_access, _orgs)

cli.add_command(access)
for _group in (members, groups, invites, org_tokens):
    cli.add_command(_group)
repos.add_command(repos_create)


# ------------------------------------------------------------------------------- demo


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--scale", type=click.FloatRange(0.01, 100.0), default=1.0, hidden=True)
@click.option("--seed", type=int, default=1, hidden=True)
@click.option(
    "--seed-api",
    is_flag=True,
    help="Serve the seed's image API too (retired on Hub since 2023-12-11) and audit "
    "through it, as before Hub retired it.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks of failures.")
def demo(fmt: str, scale: float, seed: int, seed_api: bool, debug: bool) -> None:
    """Audit an embedded FakeHub: dozens of namespaces under a Hub-shaped rate limit.

    Starts a FakeHub on 127.0.0.1 that behaves like today's Hub (generated organizations,
    repositories, images and tags; image API retired; 180 requests per 2-second window),
    logs in with a personal access token and runs the same code as `hubasync audit`
    (--source auto: one probe finds the image API gone, then tags), then prints the report
    and the client's counters. --seed-api runs the seed's image-API path instead.
    """
    from ._demo import run_demo

    setup_logging(_root_verbosity())
    debug = debug or bool((click.get_current_context().find_root().obj or {}).get("debug"))

    async def main() -> int:
        return await run_demo(
            fmt=fmt,
            out=sys.stdout,
            scale=scale,
            seed=seed,
            progress=stderr_console(),
            seed_api=seed_api,
        )

    run(debug, main)
