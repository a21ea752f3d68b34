"""Logs and traces for every function, set up once per execution environment.

With active tracing, Lambda records each invocation's segment; the Tracer adds a subsegment for the handler (with
the ColdStart annotation) and one for every AWS call. By default it patches every library the X-Ray SDK knows
(requests, sqlite3, database drivers, ...), importing those that are installed; we patch only botocore, the one
library our AWS calls go through.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])
