"""Every switch (a role option of type bool) is read as Ansible reads a switch: -e name=false gives
the string "false", which the argument spec accepts and leaves a string, and a bare `not name`,
`name or ...` or `when: name` then takes as true. So each use of a switch in the roles and playbooks
is either `name | bool`, the whole value of a module option (the module converts it), setting it
(`name: value`), or text for people (`name=true` in a sentence, a quoted literal).

Broken by: a switch used bare in a condition, such as `not onboard_renew_consent` (found this way:
onboard_renew_consent, onboard_require_mfa and onboard_rotate_secret were)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
USES = sorted([*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("roles/*/vars/*.yml"),
               *ROOT.glob("roles/*/templates/*"), *ROOT.glob("playbooks/*.yml")])


def switches() -> list[str]:
    names = set()
    for spec in ROOT.glob("roles/*/meta/argument_specs.yml"):
        for entry in yaml.safe_load(spec.read_text())["argument_specs"].values():
            names.update(name for name, option in (entry.get("options") or {}).items() if option.get("type") == "bool")
    return sorted(names)


def allowed(line: str, start: int, end: int, name: str) -> bool:
    after, before = line[end:], line[:start]
    return bool(re.match(r"\s*\|\s*bool\b", after)  # name | bool
                or re.match(r":(\s|$)", after)  # name: value (setting it)
                or after.startswith("=")  # name=true in a sentence
                or before.count("'") % 2 == 1  # inside a quoted literal
                or re.fullmatch(r"\s*[a-z_]+:\s*\"\{\{\s*" + name + r"\s*\}\}\"\s*", line))  # a module option's value


def uses_of(name: str) -> list[tuple[str, int, str]]:
    found = []
    for path in USES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for match in re.finditer(r"(?<![\w.])" + name + r"\b", line):
                if not allowed(line, match.start(), match.end(), name):
                    found.append((str(path.relative_to(ROOT)), number, line.strip()))
    return found


def test_the_roles_have_switches():
    assert {"onboard_renew_consent", "onboard_require_mfa", "customer_access_fix"} <= set(switches())


@pytest.mark.parametrize("name", switches())
def test_each_use_of_a_switch_reads_a_string_as_a_switch(name):
    assert uses_of(name) == []


def test_the_check_finds_a_bare_switch():
    assert not allowed("        - not onboard_renew_consent", 14, 35, "onboard_renew_consent")
    assert not allowed('x: "{{ a or onboard_rotate_secret }}"', 12, 32, "onboard_rotate_secret")
    assert allowed("        - not onboard_renew_consent | bool", 14, 35, "onboard_renew_consent")
