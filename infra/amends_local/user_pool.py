"""The staff user pool in moto: who the local identity provider's users are, for the functions that look staff up.

The local gateway's identity provider (``amends_local.auth``) issues and checks the tokens; this keeps the user
pool the functions read (the notifier's staff directory, ``amends.adapters.cognito``) in step with it:

* each ``AWS::Cognito::UserPool`` of the template is created in moto with its groups (``AWS::Cognito::UserPoolGroup``)
  before the functions start, because moto generates the pool's id and the functions' environments name it
  (``Template.generated_ids``);
* one user per role is there from the start, as ``make token ROLE=<role>`` names them (``local-<role>``,
  ``local-<role>@example.com``);
* any other user is added the first time the gateway accepts a token of theirs, with the token's email and groups,
  as Cognito adds a federated user at their first sign-in.

Locally a user's username is the token's ``sub``. A deployed pool whose users sign in with their email (the
template's ``UsernameAttributes``) makes each username the user's sub too, so the same lookups find them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from amends_local.auth import ROLES
from amends_local.aws import client, error_code
from amends_local.template import Template


def local_user(role: str) -> tuple[str, str]:
    """The sub and email ``make token ROLE=<role>`` gives when no SUB is named."""
    return f"local-{role}", f"local-{role}@example.com"


class LocalUserPools:
    def __init__(self, template: Template, moto_endpoint: str) -> None:
        self.template = template
        self._client = client("cognito-idp", moto_endpoint)
        self._known: set[tuple[str, str, str, tuple[str, ...]]] = set()
        self._lock = threading.Lock()

    @property
    def pools(self) -> dict[str, str]:
        """Logical id → the pool's id in moto."""
        return dict(self.template.generated_ids)

    def provision(self) -> dict[str, str]:
        """Create (or find, after a restart of a shared moto) each pool with its groups and the per-role users."""
        report: dict[str, str] = {}
        existing = {p["Name"]: p["Id"] for page in self._client.get_paginator("list_user_pools").paginate(MaxResults=60)
                    for p in page["UserPools"]}
        for rid, resource in self.template.resources.items():
            if resource["Type"] != "AWS::Cognito::UserPool":
                continue
            name = self.template.physical_name(rid)
            pool = existing.get(name) or self._client.create_user_pool(PoolName=name)["UserPool"]["Id"]
            self.template.generated_ids[rid] = pool
            groups = self._groups_of(rid)
            for group in groups:
                try:
                    self._client.create_group(UserPoolId=pool, GroupName=group)
                except Exception as error:  # noqa: BLE001 - a restart finds its groups there
                    if error_code(error) != "GroupExistsException":
                        raise
            for role in (g for g in groups if g in ROLES):
                self._add(pool, *local_user(role), (role,))
            report[rid] = f"created user pool {name} in moto ({pool}) with groups {', '.join(groups)}; users join it " \
                          "as the local identity provider's tokens are first used"
        return report

    def saw(self, claims: dict[str, Any]) -> None:
        """A token the gateway accepted: its user is in every pool, with its email and groups (once per change)."""
        sub, email = str(claims.get("sub") or ""), str(claims.get("email") or "")
        groups = claims.get("cognito:groups") or []
        groups = tuple(groups.split(",") if isinstance(groups, str) else groups)
        if not sub:
            return
        for pool in self.template.generated_ids.values():
            self._add(pool, sub, email, groups)

    def _add(self, pool: str, sub: str, email: str, groups: Iterable[str]) -> None:
        groups = tuple(groups)
        key = (pool, sub, email, groups)
        with self._lock:
            if key in self._known:
                return
            attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}] if email else []
            try:
                self._client.admin_create_user(UserPoolId=pool, Username=sub, UserAttributes=attributes,
                                               MessageAction="SUPPRESS")
            except Exception as error:  # noqa: BLE001 - known from an earlier token: bring the email up to date
                if error_code(error) != "UsernameExistsException":
                    raise
                if attributes:
                    self._client.admin_update_user_attributes(UserPoolId=pool, Username=sub, UserAttributes=attributes)
            for group in groups:
                try:
                    self._client.admin_add_user_to_group(UserPoolId=pool, Username=sub, GroupName=group)
                except Exception as error:  # noqa: BLE001 - a group the pool does not have: the token's claim only
                    if error_code(error) != "ResourceNotFoundException":
                        raise
            self._known.add(key)

    def _groups_of(self, pool_id: str) -> list[str]:
        groups = []
        for resource in self.template.resources.values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Cognito::UserPoolGroup" and props.get("UserPoolId") == {"Ref": pool_id}:
                groups.append(str(self.template.resolve(props["GroupName"])))
        return groups
