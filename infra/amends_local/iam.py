"""IAM, locally: each function's AWS calls are authorized against the policy its template entry gives it.

In AWS every call a handler makes is signed with its execution role's credentials and refused unless that role's
policies (and, for a queue, topic or key, the resource's policy) allow it. Locally the emulators accept anything,
so the ``Authorizer`` does it for them, before a call leaves the function's execution environment:

* a worker (``bootstrap.PermissionGuard``) sends each call it is about to make, service, operation and
  parameters, over a Unix socket, and waits for the verdict;
* ``iam_requests`` turns the call into what AWS authorizes (action, resource ARN, condition keys), the function's
  role and the resource policies come from the template (``iam_policies``), and iam-simulate decides
  (``iam_simulator``; decisions are cached, policies do not change while the stack runs);
* a refusal comes back as the error the service gives: a botocore ClientError with the service's code
  (``AccessDeniedException``, SQS's ``AccessDenied``, SNS's ``AuthorizationError``) and AWS's message: ``User:
  arn:aws:sts::123456789012:assumed-role/<role>/<function> is not authorized to perform: dynamodb:Query on
  resource: <arn> because no identity-based policy allows the dynamodb:Query action``.

Services that deliver as a service principal ask too (``refusal_for_service``): EventBridge putting an event into a
queue needs the queue's policy to allow ``events.amazonaws.com`` (with its ``aws:SourceArn``), and the queue's key
policy to let it encrypt.

``mode`` is ``enforce`` (refuse, as AWS does) or ``warn`` (log what AWS would refuse, in the function's log and the
runtime's, and let the call through: ``AMENDS_IAM=warn make run`` while exploring).
"""

from __future__ import annotations

import json
import logging
import shutil
import socketserver
import tempfile
import threading
from pathlib import Path
from typing import Any

from amends_local import iam_policies
from amends_local.iam_requests import AuthRequest, Resources, requests_for
from amends_local.iam_simulator import Simulator
from amends_local.template import ACCOUNT_ID, PARTITION, REGION, Template

log = logging.getLogger(__name__)

MODES = ("enforce", "warn")

# The error each service answers a refusal with: (code, HTTP status). Others: AccessDeniedException, 400.
ERRORS = {"sqs": ("AccessDenied", 403), "sns": ("AuthorizationError", 403), "ses": ("AccessDenied", 403),
          "sesv2": ("AccessDeniedException", 403), "s3": ("AccessDenied", 403), "cloudwatch": ("AccessDenied", 403),
          "lambda": ("AccessDeniedException", 403), "sts": ("AccessDenied", 403)}
_POLICY_KIND = {"identity": "identity-based", "resource": "resource-based", "permissionBoundary": "permissions boundary",
                "scp": "service control", "rcp": "resource control", "session": "session"}


class Authorizer:
    def __init__(self, template: Template, *, mode: str = "enforce", verified_identities: frozenset[str] = frozenset(),
                 simulator: Simulator | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"IAM mode {mode!r}: one of {', '.join(MODES)} (AMENDS_IAM)")
        self.mode = mode
        self.roles = iam_policies.roles(template)
        self.template = template
        self.resource_policies = {**iam_policies.queue_policies(template), **iam_policies.topic_policies(template),
                                  **iam_policies.key_policies(template),
                                  **iam_policies.bucket_policies(template), **iam_policies.function_policies(template)}
        self.resources = Resources.of(template, REGION, verified_identities)
        self.address: str | None = None
        self._by_name = {fn.name: rid for rid, fn in template.functions().items()}
        self._simulator = simulator or Simulator()
        self._decisions: dict[tuple[Any, ...], str | None] = {}
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._socket_dir: str | None = None

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> str:
        """Start the evaluator and listen for workers; returns the socket's path (``bootstrap --iam``)."""
        self._simulator.start()
        self._socket_dir = tempfile.mkdtemp(prefix="amends-iam-")  # private (0700); short enough for a socket path
        self.address = str(Path(self._socket_dir) / "socket")
        authorizer = self

        class Connection(socketserver.StreamRequestHandler):
            def handle(self) -> None:  # one worker, its calls one after another
                for line in self.rfile:
                    call = json.loads(line)
                    verdict = authorizer.check_call(call["function"], call["service"], call["operation"],
                                                    call["params"])
                    self.wfile.write(json.dumps(verdict).encode() + b"\n")
                    self.wfile.flush()

        self._server = socketserver.ThreadingUnixStreamServer(self.address, Connection)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="iam-authorizer", daemon=True).start()
        return self.address

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._simulator.stop()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    # ---- a function's call -----------------------------------------------------------------------------------
    def check_call(self, function_name: str, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The verdict on one call: ``{}`` (allowed), ``{"warn": [messages]}`` or ``{"deny": {code, status, message}}``."""
        role = self.roles.get(self._by_name.get(function_name, ""))
        if role is None or (service, operation) == ("sts", "GetCallerIdentity"):  # allowed whatever the policies
            return {}
        refusals = []
        for request in requests_for(service, operation, params, self.resources):
            why = self._decide(role.session_arn, role.policies, request)
            if why is not None:
                refusals.append(_message(service, role.session_arn, request, why))
                if self.mode == "enforce":
                    code, status = ERRORS.get(service, ("AccessDeniedException", 400))
                    return {"deny": {"code": code, "status": status, "message": refusals[0]}}
        if refusals:
            for message in refusals:
                log.warning("%s (AMENDS_IAM=warn: let through): %s", role.function_id, message)
            return {"warn": refusals}
        return {}

    # ---- a service principal's delivery ------------------------------------------------------------------------
    def refusal_for_service(self, principal: str, action: str, resource: str, source_arn: str) -> str | None:
        """Why AWS would refuse ``principal`` (``events.amazonaws.com``) ``action`` on ``resource`` on behalf of
        ``source_arn`` (the rule), or None; the resource's key, if any, must let it encrypt too. In warn mode
        a refusal is logged and None returned."""
        requests = [AuthRequest(action, resource)]
        key = self.resources.queue_keys.get(resource) if action == "sqs:SendMessage" else None
        if key:
            via = (("kms:ViaService", f"sqs.{REGION}.amazonaws.com"),)
            requests += [AuthRequest("kms:GenerateDataKey", key, via), AuthRequest("kms:Decrypt", key, via)]
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": ACCOUNT_ID}
        for request in requests:
            why = self._decide(principal, (), request, context)
            if why is not None:
                message = _message("", principal, request, why)
                if self.mode == "enforce":
                    return message
                log.warning("%s (AMENDS_IAM=warn: let through)", message)
        return None

    def refusal_for_role(self, role_arn: str | None, action: str, resource: str) -> str | None:
        """Why AWS would refuse EventBridge, acting as the rule target's role ``role_arn``, ``action`` on
        ``resource`` (``events:InvokeApiDestination`` on a destination), or None. In warn mode a refusal is logged
        and None returned."""
        policies = iam_policies.role_policies(self.template, role_arn) if role_arn else None
        if policies is None:
            message = (f"EventBridge has no role of this template to assume for {action} on {resource} "
                       f"(the target's RoleArn is {role_arn or 'not set'})")
        else:
            session = f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/events"
            why = self._decide(session, policies, AuthRequest(action, resource))
            message = None if why is None else _message("", session, AuthRequest(action, resource), why)
        if message and self.mode == "warn":
            log.warning("%s (AMENDS_IAM=warn: let through)", message)
            return None
        return message

    # ---- evaluation --------------------------------------------------------------------------------------------
    def _decide(self, principal: str, policies: tuple[tuple[str, Any], ...], request: AuthRequest,
                extra: dict[str, str] | None = None) -> str | None:
        """None when allowed; else the reason, as AWS words it after "because"."""
        cache_key = (principal, request, tuple(sorted((extra or {}).items())))
        if cache_key not in self._decisions:
            self._decisions[cache_key] = self._evaluate(principal, policies, request, extra or {})
        return self._decisions[cache_key]

    def _evaluate(self, principal: str, policies: tuple[tuple[str, Any], ...], request: AuthRequest,
                  extra: dict[str, str]) -> str | None:
        context: dict[str, Any] = {"aws:RequestedRegion": REGION, "aws:SecureTransport": "true", **extra,
                                   **{k: list(v) if isinstance(v, tuple) else v for k, v in request.context}}
        if principal.startswith("arn:"):
            role = principal.split("/")[1]
            context |= {"aws:PrincipalArn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{role}",
                        "aws:PrincipalAccount": ACCOUNT_ID}
        simulation = {
            "identityPolicies": [{"name": name, "policy": policy} for name, policy in policies],
            "serviceControlPolicies": [], "resourceControlPolicies": [],
            "request": {"principal": principal, "action": request.action, "contextVariables": context,
                        "resource": {"resource": request.resource, "accountId": ACCOUNT_ID}},
        }
        policy = self.resource_policies.get(request.resource)
        if policy is None and request.resource.startswith(f"arn:{PARTITION}:s3:::"):  # an object: its bucket's policy
            policy = self.resource_policies.get(request.resource.split("/", 1)[0])
        if policy is not None:
            simulation["resourcePolicy"] = policy
        answer = self._simulator.evaluate(simulation)
        if "error" in answer:
            log.error("IAM simulator could not evaluate %s on %s: %s", request.action, request.resource,
                      json.dumps(answer["error"]))
            return f"the local IAM check could not evaluate it: {json.dumps(answer['error'])}"
        if answer["result"] == "Allowed":
            return None
        denial = (answer.get("denials") or [{"policyType": "identity", "denialType": "Implicit"}])[0]
        kind = _POLICY_KIND.get(denial["policyType"], denial["policyType"])
        if denial["denialType"] == "Explicit":
            return f"with an explicit deny in {'an' if kind[0] in 'aeiou' else 'a'} {kind} policy"
        return f"because no {kind} policy allows the {request.action} action"


def _message(service: str, principal: str, request: AuthRequest, why: str) -> str:
    """AWS's words for a refusal (SES's classic API has its own)."""
    if service == "ses":
        return f"User `{principal}' is not authorized to perform `{request.action}' on resource `{request.resource}'"
    on = "" if request.resource == "*" else f" on resource: {request.resource}"
    return f"User: {principal} is not authorized to perform: {request.action}{on} {why}"
