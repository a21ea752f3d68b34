"""Staff addresses from the Cognito user pool (the ``StaffDirectory`` port of services/ports.py).

A case's owner and a staff actor are named by the user's ``sub``. In a pool whose users sign in with their email
(the template's ``UsernameAttributes: [email]``) Cognito makes each username the user's sub, so ``AdminGetUser``
finds them directly; for any other pool a ``sub = "..."`` filter of ``ListUsers`` does. A role is the group of the
same name (``ListUsersInGroup``, paged). Users that are disabled, or have no email, are not addressable: they are
left out, as the port says.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from amends.services.ports import StaffMember



class CognitoStaffDirectory:
    def __init__(self, user_pool_id: str, client: Any) -> None:
        self.pool = user_pool_id
        self.client = client

    def member(self, user_id: str) -> StaffMember | None:
        try:
            user = self.client.admin_get_user(UserPoolId=self.pool, Username=user_id)
        except ClientError as error:
            if error.response["Error"]["Code"] != "UserNotFoundException":
                raise
            found = self.client.list_users(UserPoolId=self.pool, Filter=f'sub = "{_quoted(user_id)}"', Limit=1)
            users = found.get("Users") or []
            if not users:
                return None
            user = users[0]
        return _member(user.get("Username", user_id), user.get("UserAttributes") or user.get("Attributes") or [],
                       enabled=user.get("Enabled", True))

    def with_role(self, role: str) -> list[StaffMember]:
        people: list[StaffMember] = []
        pages = self.client.get_paginator("list_users_in_group").paginate(UserPoolId=self.pool, GroupName=role)
        try:
            for page in pages:
                for user in page.get("Users") or []:
                    person = _member(user["Username"], user.get("Attributes") or [], enabled=user.get("Enabled", True))
                    if person is not None:
                        people.append(person)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":  # no such group: nobody has the role
                return []
            raise
        return people


def _member(username: str, attributes: list[dict[str, str]], *, enabled: bool) -> StaffMember | None:
    values = {a["Name"]: a.get("Value", "") for a in attributes}
    email = values.get("email")
    if not enabled or not email:
        return None
    return StaffMember(id=values.get("sub") or username, email=email, name=values.get("name") or None)


def _quoted(value: str) -> str:
    """A value inside ListUsers' double-quoted filter string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
