"""The four-eyes rule across accounts: two approvals never count together if one administrator may hold
the credentials of both accounts."""

from __future__ import annotations

from sqlalchemy import select

from partnerprojekte.db import store
from partnerprojekte.db.schema import ApiTokenRow, UserRow
from partnerprojekte.db.store import Executor
from partnerprojekte.errors import TransitionRefused
from partnerprojekte.model import Event, State
from partnerprojekte.states.workflow import Actor


def check_independent(
    conn: Executor, actor: Actor, pending: list[store.PendingApproval], event: Event, state: State
) -> None:
    """Refuse an approval that would count together with one whose account the same administrator
    created or (last) activated, directly or through an administration account of their making: one
    person could hold both accounts' credentials.

    Accounts without a recorded administrator (``NULL``: seeded, imported or made before this rule)
    count as independent; the check runs in the event's transaction, so it holds at the moment it counts.
    """
    others = [a for a in pending if a.user_id != actor.user_id]
    if not others:
        return
    origins = _origins(conn, [actor.user_id, *(a.user_id for a in others)])
    mine = origins[actor.user_id]
    for other in others:
        theirs = origins[other.user_id]
        shared = (mine & theirs) | (mine & {other.user_id}) | (theirs & {actor.user_id})
        if shared:
            admins = conn.execute(select(UserRow.email).where(UserRow.id.in_(shared)).order_by(UserRow.email))
            names = ", ".join(email for (email,) in admins)
            raise TransitionRefused(
                f"Vier-Augen-Prinzip: Die Zustimmung von {actor.email} kann nicht zusammen mit der von "
                f"{other.email} zählen – beide Zugänge hat dieselbe Administration ({names}) angelegt, "
                "aktiviert oder mit einem API-Token versehen. Es muss eine Person zustimmen, deren Zugang "
                "eine andere Administration eingerichtet hat.",
                event=event.value,
                state=state.value,
                reason="approval",
                role=actor.role.value,
            )


def _direct_origins(conn: Executor, user_ids: list[int]) -> dict[int, set[int]]:
    """The administrators directly behind each account: who created it, who issued the activation link
    its owner last used, who issued one of its unrevoked API tokens (whoever did may hold its
    credentials)."""
    found: dict[int, set[int]] = {uid: set() for uid in user_ids}
    users = conn.execute(
        select(UserRow.id, UserRow.created_by, UserRow.activated_by).where(UserRow.id.in_(user_ids))
    )
    for uid, created_by, activated_by in users:
        found[uid] |= {a for a in (created_by, activated_by) if a is not None}
    tokens = conn.execute(
        select(ApiTokenRow.user_id, ApiTokenRow.issued_by).where(
            ApiTokenRow.user_id.in_(user_ids),
            ApiTokenRow.revoked_at.is_(None),
            ApiTokenRow.issued_by.is_not(None),
        )
    )
    for uid, issued_by in tokens:
        found[uid].add(issued_by)
    return found


def _origins(conn: Executor, user_ids: list[int]) -> dict[int, set[int]]:
    """Every administrator who may hold each account's credentials, transitively: an administrator who
    created (or activated) a second administration account may hold that one's credentials too, and
    so those of every account it set up."""
    direct = _direct_origins(conn, user_ids)
    todo = set().union(*direct.values()) - direct.keys()
    while todo:
        direct.update(_direct_origins(conn, sorted(todo)))
        todo = set().union(*direct.values()) - direct.keys()
    closure: dict[int, set[int]] = {}
    for uid in user_ids:
        seen: set[int] = set()
        stack = list(direct[uid])
        while stack:
            admin = stack.pop()
            if admin not in seen:
                seen.add(admin)
                stack.extend(direct.get(admin, ()))
        closure[uid] = seen
    return closure
