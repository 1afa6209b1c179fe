import pytest

from arbiter.errors import ConfigError
from prompts.registry import get_template, load_templates, messages_sha256, read_lock


def test_every_template_is_pinned_in_the_lock_file() -> None:
    """Editing a template's text without bumping its version fails here."""
    lock = read_lock()
    templates = load_templates()
    assert set(lock) == set(templates), "add new templates to prompts/templates.lock.json"
    for ref, template in templates.items():
        assert template.sha256 == lock[ref], (
            f"{ref} changed without a version bump: bump `version` and add the new hash"
        )


def test_render_is_deterministic_and_strict() -> None:
    template = get_template("shopper.system")
    values = {
        "customer_name": "Ana",
        "customer_id": "C1001",
        "region": "west",
        "loyalty_tier": "gold",
        "channel": "shopper",
    }
    first, second = template.render(**values), template.render(**values)
    assert first.text == second.text and "C1001" in first.text
    assert messages_sha256([{"role": "system", "content": first.text}]) == messages_sha256(
        [{"role": "system", "content": second.text}]
    )
    with pytest.raises(ConfigError, match="missing variable"):
        template.render(customer_name="Ana")
    with pytest.raises(ConfigError, match="unexpected"):
        template.render(**values, extra="x")


def test_unknown_template_is_an_error() -> None:
    with pytest.raises(ConfigError):
        get_template("nope")
