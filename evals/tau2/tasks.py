"""Load the tau-bench retail tasks: the maintained tau2 set or the original one.

tau2 keeps every task in ``tasks.json`` (ids are strings) and names its splits in
``split_tasks.json`` (``base`` is all of them). The original set has one file per
split, ``tasks_<split>.json``, and a task's id is its position in that file. Both
become ``Tau2Task``: who the simulated user is and wants, the gold calls in order,
and the outputs the agent must say.

A file that is missing or not in the expected shape raises ``TaskFileError`` naming
the file and the offending field; asking for a split or task that does not exist
raises ``TaskSelectionError``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from arbiter.errors import ConfigError, InputError
from evals.conformance import DEFAULT_PEERS, SETS
from tools.retail import RETAIL_ACTION_TYPES, get_retail_tool

SetName = Literal["tau2", "original"]
SPLITS: dict[str, tuple[str, ...]] = {
    "tau2": ("base", "test", "train"),
    "original": ("test", "dev", "train"),
}
"""The splits of each set; the first is the default (tau2: all tasks; original: the
split the published leaderboard reports)."""


class TaskFileError(ConfigError):
    """A peer task file is missing, unreadable or not in the expected shape."""


class TaskSelectionError(InputError):
    """The requested split or task ids do not exist in the set."""


class GoldCall(BaseModel):
    """One gold tool call of a task, in the order the benchmark expects it."""

    name: str = Field(description="Tool name as the benchmark spells it.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Its arguments.")

    @property
    def is_write(self) -> bool:
        """True for a call that changes the database (an action tool)."""
        return self.name in RETAIL_ACTION_TYPES

    @property
    def is_known(self) -> bool:
        """True when Arbiter's retail toolset has this tool (calculate, transfer… are not)."""
        return get_retail_tool(self.name) is not None


class UserScenario(BaseModel):
    """What the simulated user is told: why they call, what they know, how they act."""

    instruction: str = Field(description="The request (tau2 reason_for_call; original text).")
    known_info: str | None = Field(default=None, description="Facts the user can give.")
    unknown_info: str | None = Field(default=None, description="Facts the user does not know.")
    task_instructions: str | None = Field(default=None, description="How the user behaves.")
    persona: str | None = Field(default=None, description="Who the user is, if given.")


class Tau2Task(BaseModel):
    """One task of a peer set, whichever set it came from."""

    set_name: SetName = Field(description="Which peer set the task comes from.")
    split: str = Field(description="The split it was loaded from.")
    task_id: str = Field(description="tau2: the task's id; original: its index in the split.")
    user_id: str | None = Field(default=None, description="The user the original set names.")
    scenario: UserScenario = Field(description="What the simulated user is told.")
    actions: list[GoldCall] = Field(description="Gold calls (reads and writes), in order.")
    outputs: list[str] = Field(
        default_factory=list,
        description="Strings the agent must say (tau2 communicate_info; original outputs).",
    )

    @property
    def ref(self) -> str:
        """The id ``evals.conformance`` uses: ``64`` (tau2) or ``test:64`` (original)."""
        return self.task_id if self.set_name == "tau2" else f"{self.split}:{self.task_id}"

    @property
    def writes(self) -> list[GoldCall]:
        """The gold calls that change the database, in order."""
        return [call for call in self.actions if call.is_write]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Tau2Action(_Loose):
    name: str
    arguments: dict[str, Any] | None = None


class _Tau2Instructions(_Loose):
    reason_for_call: str
    known_info: str | None = None
    unknown_info: str | None = None
    task_instructions: str | None = None


class _Tau2Scenario(_Loose):
    persona: str | None = None
    instructions: _Tau2Instructions


class _Tau2Criteria(_Loose):
    actions: list[_Tau2Action] | None = None
    communicate_info: list[str] | None = None


class _Tau2Raw(_Loose):
    id: str
    user_scenario: _Tau2Scenario
    evaluation_criteria: _Tau2Criteria


class _OriginalAction(_Loose):
    name: str
    # the original files call the arguments "kwargs" (AliasChoices keeps mypy's
    # pydantic plugin from clashing that name with the __init__'s **kwargs)
    arguments: dict[str, Any] | None = Field(default=None, validation_alias=AliasChoices("kwargs"))


class _OriginalRaw(_Loose):
    user_id: str
    instruction: str
    actions: list[_OriginalAction]
    outputs: list[str] = Field(default_factory=list)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskFileError(f"{path}: no such file (is the peer data in place?)") from None
    except (OSError, ValueError) as exc:
        raise TaskFileError(f"{path}: cannot read it as JSON: {exc}") from None


def _validated(adapter: TypeAdapter[Any], data: Any, path: Path) -> Any:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        ]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise TaskFileError(f"{path}: not a task list: {'; '.join(problems[:3])}{more}") from None


def _tau2_task(raw: _Tau2Raw, split: str) -> Tau2Task:
    said = raw.user_scenario.instructions
    criteria = raw.evaluation_criteria
    return Tau2Task(
        set_name="tau2",
        split=split,
        task_id=raw.id,
        scenario=UserScenario(
            instruction=said.reason_for_call,
            known_info=said.known_info,
            unknown_info=said.unknown_info,
            task_instructions=said.task_instructions,
            persona=raw.user_scenario.persona,
        ),
        actions=[
            GoldCall(name=a.name, arguments=a.arguments or {}) for a in criteria.actions or []
        ],
        outputs=list(criteria.communicate_info or []),
    )


def _load_tau2(folder: Path, split: str) -> list[Tau2Task]:
    tasks_path, split_path = folder / "tasks.json", folder / "split_tasks.json"
    raws = _validated(TypeAdapter(list[_Tau2Raw]), _read_json(tasks_path), tasks_path)
    splits = _validated(TypeAdapter(dict[str, list[str]]), _read_json(split_path), split_path)
    if split not in splits:
        raise TaskFileError(f"{split_path}: has no split {split!r} (it has {sorted(splits)})")
    wanted = set(splits[split])
    return [_tau2_task(raw, split) for raw in raws if raw.id in wanted]


def _load_original(folder: Path, split: str) -> list[Tau2Task]:
    path = folder / f"tasks_{split}.json"
    raws: list[_OriginalRaw] = _validated(TypeAdapter(list[_OriginalRaw]), _read_json(path), path)
    return [
        Tau2Task(
            set_name="original",
            split=split,
            task_id=str(index),
            user_id=raw.user_id,
            scenario=UserScenario(instruction=raw.instruction),
            actions=[GoldCall(name=a.name, arguments=a.arguments or {}) for a in raw.actions],
            outputs=raw.outputs,
        )
        for index, raw in enumerate(raws)
    ]


def default_split(set_name: SetName) -> str:
    """The split used when none is given."""
    return SPLITS[set_name][0]


def load_tasks(
    set_name: SetName,
    split: str | None = None,
    *,
    peers: Path = DEFAULT_PEERS,
    task_ids: Sequence[str] | None = None,
) -> list[Tau2Task]:
    """The tasks of one split of a set, in file order; only ``task_ids`` when given."""
    if set_name not in SPLITS:
        raise TaskSelectionError(f"unknown set {set_name!r}: choose from {sorted(SPLITS)}")
    split = split or default_split(set_name)
    if split not in SPLITS[set_name]:
        choices = ", ".join(SPLITS[set_name])
        raise TaskSelectionError(f"the {set_name} set has no split {split!r}: choose {choices}")
    folder = peers / SETS[set_name]
    loader = _load_tau2 if set_name == "tau2" else _load_original
    tasks = loader(folder, split)
    if task_ids is None:
        return tasks
    known = {task.task_id for task in tasks}
    unknown = [t for t in task_ids if t not in known]
    if unknown:
        raise TaskSelectionError(
            f"no task {', '.join(unknown)} in {set_name}/{split} ({len(tasks)} tasks)"
        )
    wanted = set(task_ids)
    return [task for task in tasks if task.task_id in wanted]
