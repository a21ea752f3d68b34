"""The staff directory against Cognito (the stack's moto server, in a pool of its own): a case's owner by sub, a role
by group, only addressable users. Not ``mock_aws``: leaving it resets every moto backend in this process, the local
stack's included."""

from __future__ import annotations

import boto3
import pytest
from amends.adapters.cognito import CognitoStaffDirectory
from amends.services.ports import StaffMember


@pytest.fixture
def pool(stack):
    client = boto3.client("cognito-idp", region_name="eu-west-2", endpoint_url=stack.moto_endpoint)
    pool_id = client.create_user_pool(PoolName="staff-directory-test")["UserPool"]["Id"]
    client.create_group(UserPoolId=pool_id, GroupName="supervisor")
    yield client, pool_id
    client.delete_user_pool(UserPoolId=pool_id)


def add(client, pool_id: str, username: str, email: str | None, *, group: str | None = None,
        enabled: bool = True) -> str:
    attributes = [{"Name": "email", "Value": email}] if email else []
    created = client.admin_create_user(UserPoolId=pool_id, Username=username, UserAttributes=attributes,
                                       MessageAction="SUPPRESS")["User"]
    if group:
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
    if not enabled:
        client.admin_disable_user(UserPoolId=pool_id, Username=username)
    return next(a["Value"] for a in created["Attributes"] if a["Name"] == "sub")


def test_a_member_is_found_by_username_or_by_sub_and_only_when_addressable(pool) -> None:
    client, pool_id = pool
    sub = add(client, pool_id, "ada", "ada@example.com")
    add(client, pool_id, "no-mail", None)
    add(client, pool_id, "gone", "gone@example.com", enabled=False)
    directory = CognitoStaffDirectory(pool_id, client)
    assert directory.member("ada") == StaffMember(id=sub, email="ada@example.com")
    assert directory.member(sub) == StaffMember(id=sub, email="ada@example.com")  # the sub, as a case's owner is named
    assert directory.member("no-mail") is None and directory.member("gone") is None
    assert directory.member("nobody") is None and directory.member('x" or sub = "y') is None


def test_a_role_is_every_enabled_member_of_its_group_over_pages(pool) -> None:
    client, pool_id = pool
    for n in range(65):  # ListUsersInGroup gives 60 at most per page
        add(client, pool_id, f"sup-{n}", f"sup-{n}@example.com", group="supervisor")
    add(client, pool_id, "sup-off", "off@example.com", group="supervisor", enabled=False)
    add(client, pool_id, "handler", "handler@example.com")
    directory = CognitoStaffDirectory(pool_id, client)
    emails = sorted(p.email for p in directory.with_role("supervisor"))
    assert len(emails) == 65 and "off@example.com" not in emails and "handler@example.com" not in emails
    assert directory.with_role("manager") == []  # no such group in this pool: nobody has the role
