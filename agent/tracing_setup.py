"""The global OpenTelemetry tracer provider, from the standard ``OTEL_*`` variables.

Nothing is exported by default. ``OTEL_TRACES_EXPORTER=otlp`` (or an OTLP endpoint)
exports over OTLP/HTTP behind a batch processor; ``console`` writes spans to stderr.
A provider the host application installed first is left as it is.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from arbiter.settings import Settings

logger = logging.getLogger("arbiter.agent")

_installed: TracerProvider | None = None
_install_lock = threading.Lock()


def configure_tracing(
    settings: Settings, *, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Install a global provider with the exporters the ``OTEL_*`` variables select.

    Idempotent: the provider installed first is returned again. Returns None when no
    exporter is selected (the default) or when the host application has already set a
    global provider, which is then used as it is. (The selection is read from the
    environment here, as the SDK's exporters read their own ``OTEL_*`` settings.)
    """
    global _installed
    with _install_lock:
        if _installed is not None:
            return _installed
        if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            return None
        provider = build_tracer_provider(environ)
        if provider is not None:
            trace.set_tracer_provider(provider)
            _installed = provider
        return provider


def build_tracer_provider(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """A provider for the exporters the ``OTEL_*`` variables select; None for none.

    OTLP when ``OTEL_TRACES_EXPORTER=otlp`` or an OTLP endpoint is set, behind a batch
    processor (export stays off the request path); ``console`` writes each span to
    stderr as it ends (stdout carries the CLI's answers and JSON).
    """
    env = os.environ if environ is None else environ
    processors: list[SpanProcessor] = []
    for name in exporter_names(env):
        if name == "otlp":
            exporter = _otlp_exporter(env)
            if exporter is not None:
                processors.append(BatchSpanProcessor(exporter))
        elif name == "console":
            processors.append(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
        else:
            logger.warning("OTEL_TRACES_EXPORTER=%s is not supported; ignored", name)
    if not processors:
        return None
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "arbiter"}))
    provider = TracerProvider(resource=resource)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def exporter_names(env: Mapping[str, str]) -> list[str]:
    """The span exporters selected: explicit ``OTEL_TRACES_EXPORTER``, else an endpoint."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    explicit = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    explicit = [n for n in explicit if n]
    if explicit:
        return [] if "none" in explicit else list(dict.fromkeys(explicit))
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return ["otlp"]
    return []


def _otlp_exporter(env: Mapping[str, str]) -> SpanExporter | None:
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol != "http/protobuf":  # the grpc exporter would pull in grpcio
        logger.warning("OTLP protocol %s is not bundled; spans are not exported", protocol)
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: the standard OTEL_* variables
