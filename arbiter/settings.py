"""Settings, read from the environment in exactly this one place.

``ARBITER_*`` variables configure Arbiter; the standard ``OPENAI_API_KEY`` and
``OPENAI_BASE_URL`` select an LLM endpoint. With neither set, the offline planner is
used and the CLI says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PlannerChoice = Literal["auto", "offline", "openai"]


class Settings(BaseSettings):
    """Everything Arbiter reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="ARBITER_", extra="ignore")

    data_dir: Path = Field(default=Path(".arbiter"), description="Where the SQLite stores live.")
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL for the budget ledger and kill switch; unset means SQLite.",
    )
    sandbox_url: str | None = Field(
        default=None,
        description="Base URL of the capability services; unset means in-process sandbox.",
    )
    policy_file: Path | None = Field(
        default=None, description="Policy YAML; unset means the bundled default policy."
    )
    shadow_policy_file: Path | None = Field(
        default=None,
        description="Candidate policy YAML evaluated beside the active one, never enforced.",
    )
    planner: PlannerChoice = Field(
        default="auto", description="auto: openai when an endpoint is configured, else offline."
    )
    model: str = Field(default="gpt-4o-mini", description="Chat model name for the openai planner.")
    temperature: float = Field(default=0.0, description="Sampling temperature for the model.")
    max_tokens: int = Field(default=800, description="Completion token cap per model call.")
    seed: int | None = Field(default=7, description="Sampling seed sent to the model endpoint.")
    llm_timeout_s: float = Field(default=30.0, description="Per-request timeout for the model.")
    llm_max_retries: int = Field(default=3, description="Retries on 429/5xx from the model.")
    llm_transport: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="HTTP transport of the openai client: aiohttp (less CPU per call) or httpx.",
    )
    tool_timeout_s: float = Field(default=5.0, description="Per-call timeout for capability APIs.")
    tool_max_attempts: int = Field(default=3, description="Attempts per capability call.")
    max_message_chars: int = Field(default=4000, description="Longest user message accepted.")
    turn_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="Longest a turn holds its session against other processes (crash lapse).",
    )
    max_plan_steps: int = Field(default=6, description="Model calls per turn before answering.")
    max_revisions: int = Field(default=2, description="Re-plans allowed after denied actions.")
    approval_ttl_s: float = Field(
        default=24 * 3600,
        gt=0,
        validation_alias=AliasChoices("ARBITER_APPROVAL_TTL_SECONDS", "ARBITER_APPROVAL_TTL_S"),
        description="How long a pending approval waits before it expires (seconds).",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="YAML list of API keys (name, role, key or key_sha256, customer_id);"
        " unset: <data_dir>/api-keys.yaml, created with one key per role on first serve.",
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="Extra API keys as 'name:role:secret' entries separated by commas.",
    )
    max_request_bytes: int = Field(
        default=256 * 1024, gt=0, description="Largest HTTP request body the API accepts."
    )
    audit_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Prune decision records older than this (the chain is anchored, not broken).",
    )
    trace_content: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "ARBITER_TRACE_CONTENT"
        ),
        description="Put prompts and completions on spans (they can hold personal data).",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "ARBITER_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "ARBITER_OPENAI_BASE_URL")
    )

    def resolved_planner(self) -> Literal["offline", "openai"]:
        """The planner to use: ``auto`` picks openai only when an endpoint is configured."""
        if self.planner != "auto":
            return self.planner
        return "openai" if self.openai_api_key or self.openai_base_url else "offline"

    def path(self, name: str) -> Path:
        """A file inside the data directory, creating the directory on first use."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir / name
