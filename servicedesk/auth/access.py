"""Who may see what: roles on every view, the organisation and the queues of the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g
from flask_login import current_user, login_required
from sqlmodel import col

from servicedesk.auth.models import ROLES
from servicedesk.auth.operations import user_queue_ids
from servicedesk.db import get_session
from servicedesk.orgs.models import Organisation

F = TypeVar("F", bound=Callable[..., Any])

#: Role sets the views use; an admin can do everything in their own organisation.
DASHBOARD = ("team_leader", "quality", "admin")
REPORTS = ("quality", "admin")
SETTINGS = ("admin",)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Sign-in and one of ``roles``, else 403; the roles stay on the view for the route audit."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            g.private_page = True
            return view(*args, **kwargs)

        guarded: F = login_required(wrapped)
        guarded.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the route audit
        return guarded

    return decorate


def public(view: F) -> F:
    """Mark a view as open to anyone (sign-in page, static assets), for the route audit."""
    view.allowed_roles = None  # type: ignore[attr-defined]  # read by the route audit
    return view


def current_org() -> Organisation:
    """The signed-in user's organisation (loaded once per request)."""
    if "current_org" not in g:
        org = get_session().get(Organisation, current_user.organisation_id)
        if org is None:
            abort(403)
        g.current_org = org
    org_of_user: Organisation = g.current_org
    return org_of_user


def allowed_queue_ids() -> list[int] | None:
    """The queues the signed-in user may see, or None for every queue of the organisation."""
    if "allowed_queue_ids" not in g:
        g.allowed_queue_ids = user_queue_ids(get_session(), current_user)
    allowed: list[int] | None = g.allowed_queue_ids
    return allowed


def scope_queues(requested: list[int] | None) -> list[int] | None:
    """The queue filter a query may use: the user's limit, narrowed by what was asked for.

    Asking for a queue outside the user's limit (or another organisation's) is refused, not
    silently narrowed, so a bookmarked link never shows figures that are not what it says.
    """
    allowed = allowed_queue_ids()
    if not requested:
        return allowed
    if allowed is not None and not set(requested) <= set(allowed):
        abort(403)
    from servicedesk.orgs.models import Queue

    own = set(
        get_session().scalars(
            sa.select(col(Queue.id)).where(
                col(Queue.organisation_id) == current_org().id, col(Queue.id).in_(requested)
            )
        )
    )
    if own != set(requested):
        abort(404)
    return sorted(requested)


def scope_label() -> str:
    """The queues a queue-scoped user sees, by name ("Bygglov, Växel"); "" for every queue (and
    when nobody is signed in). Page titles and the header carry it, so a printed or shared page
    says whose figures it shows."""
    if not getattr(current_user, "is_authenticated", False):
        return ""
    if "scope_label" not in g:
        allowed = allowed_queue_ids()
        label = ""
        if allowed is not None:
            from servicedesk.orgs.models import Queue

            names = get_session().scalars(
                sa.select(col(Queue.name))
                .where(col(Queue.organisation_id) == current_org().id, col(Queue.id).in_(allowed))
                .order_by(col(Queue.name))
            )
            label = ", ".join(names)
        g.scope_label = label
    return str(g.scope_label)
