"""What the documentation says in more than one place agrees with its one source: the sandbox's
default customer count (sandbox/seed.py), the Python floor (the modules' doc fragment), and the
project's public links (galaxy.yml). Fails when a copy drifts, e.g. a README that says 3 customers
while the seed has 8, or an "Edit on GitHub" link to another repository than galaxy.yml's."""
from __future__ import annotations

import re
import subprocess
import sys

import yaml

from conftest import ROOT
from sandbox.seed import DEFAULT_SEED

FRAGMENT = (ROOT / "plugins" / "doc_fragments" / "common.py").read_text()


def read(path: str) -> str:
    return (ROOT / path).read_text()


def test_sandbox_default_customer_count():
    count = DEFAULT_SEED["customers"]
    assert len(DEFAULT_SEED["relationships"]) == count, "the default is one customer of each GDAP situation"
    said = {
        "README.md": re.findall(r"Its customers \((\d+) by default", read("README.md")),
        "sandbox/README.md": re.findall(r"`--customers`, default (\d+)", read("sandbox/README.md")),
        "docs/docsite/rst/sandbox.rst": re.findall(r"serves (\d+) customers by default", read("docs/docsite/rst/sandbox.rst")),
    }
    help_text = subprocess.run([sys.executable, "-m", "sandbox", "serve", "--help"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    said["python -m sandbox serve --help"] = re.findall(r"\(default (\d+)", " ".join(help_text.split()))
    assert all(said.values()), f"a place no longer states the count: {said}"
    assert {place: {int(n) for n in numbers} for place, numbers in said.items()} == {place: {count} for place in said}


def test_python_floor():
    [floor] = re.findall(r"^  - python >= (3\.\d+)$", FRAGMENT, re.M)
    readme = read("README.md")
    said = {
        "README supported versions": re.findall(r"^\| Python where the tasks run \| (3\.\d+) or later \|$", readme, re.M),
        "README two commands": re.findall(r"On a fresh machine \(Python (3\.\d+) or later", readme),
        "scripts/lib.sh": re.findall(r"python3 \((3\.\d+) or later\)", read("scripts/lib.sh")),
    }
    assert all(said.values()), f"a place no longer states the floor: {said}"
    assert {place: set(found) for place, found in said.items()} == {place: {floor} for place in said}


def test_dependency_floors_in_the_doc_fragment_are_requirements_txt():
    wanted = dict(re.findall(r"^([a-z-]+)>=([0-9.]+)$", read("requirements.txt"), re.M))
    documented = dict(re.findall(r"^  - ([a-z-]+) >= ([0-9.]+)$", FRAGMENT, re.M))
    documented.pop("python")
    assert documented and all(wanted.get(name) == version for name, version in documented.items()), (documented, wanted)


def test_public_links_are_galaxy_ymls():
    galaxy = yaml.safe_load(read("galaxy.yml"))
    repository = galaxy["repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository), repository
    assert galaxy["homepage"] == repository
    assert galaxy["issues"] == repository + "/issues"
    assert galaxy["documentation"].startswith(repository + "/tree/main/docs")
    links = yaml.safe_load(read("docs/docsite/links.yml"))
    edit = links["edit_on_github"]
    assert f"https://github.com/{edit['repository']}" == repository and edit["branch"] == "main"
    assert [link["url"] for link in links["extra_links"] if "issue" in link["description"].lower()] == [galaxy["issues"]]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    other_homes = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in (".md", ".rst", ".yml", ".yaml", ".py", ".txt") and path.is_file():
            for url in re.findall(r"https://(?:github\.com|example\.invalid)/[\w.-]+/[\w.-]+", path.read_text(errors="replace")):
                if "example.invalid" in url or (url.startswith("https://github.com/partnercenter/") and url != repository):
                    other_homes.append((name, url))
    assert not other_homes


def test_the_readme_renders_on_galaxy():
    """Galaxy and Automation Hub render README.md as plain Markdown from the built collection: no
    mermaid (shown as a code block there), no image or link to a file the tarball does not hold."""
    readme = read("README.md")
    assert "```mermaid" not in readme
    galaxy = yaml.safe_load(read("galaxy.yml"))
    left_out = tuple(entry.rstrip("/*") for entry in galaxy["build_ignore"] if "*" not in entry.rstrip("/*"))
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if target.startswith("https://"):
            continue
        assert (ROOT / target).exists() and not target.startswith(left_out), f"README links to {target}, not in the collection"
    assert not re.findall(r"!\[[^\]]*\]\((?!https://)", readme), "a relative image is broken on Galaxy"


def test_the_guides_in_markdown_for_galaxy_are_current():
    """Galaxy and Automation Hub show the Markdown files of docs/ as the collection's documentation:
    scripts/galaxy_docs.py writes them from the guides. Fails when a guide changed without them."""
    checked = subprocess.run([sys.executable, str(ROOT / "scripts" / "galaxy_docs.py"), "--check"], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    assert sorted(p.stem for p in (ROOT / "docs").glob("*.md")) == sorted(
        p.stem for p in (ROOT / "docs" / "docsite" / "rst").glob("*.rst"))
