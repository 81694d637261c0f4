"""The docsite guides (docs/docsite/rst/*.rst, the one source) as Markdown in docs/, where Galaxy
and Automation Hub show a collection's documentation files: they render Markdown only.

    python3 scripts/galaxy_docs.py          # write docs/*.md
    python3 scripts/galaxy_docs.py --check  # exit 1 when a docs/*.md is not what the guide gives

Covers the reStructuredText the guides use: titles, labels, code blocks, list tables, inline
literals, references and links."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ROOT / "docs" / "docsite" / "rst"
OUT = ROOT / "docs"
HEADER = "<!-- Generated from docs/docsite/rst/{name}.rst by scripts/galaxy_docs.py: edit the guide, not this file. -->\n\n"
TITLE_LEVELS = {"=": "#", "-": "##", "~": "###", "^": "####"}


def inline(text: str) -> str:
    text = re.sub(r":ref:`([^`<]+?)\s*<[^`>]+>`", r"\1", text)
    text = re.sub(r":ref:`([^`]+)`", r"\1", text)
    text = re.sub(r"`([^`<]+?)\s*<(https?://[^>]+)>`_+", r"[\1](\2)", text)
    return re.sub(r"``(.+?)``", r"`\1`", text)


def indented_block(lines: list[str], start: int) -> tuple[list[str], int]:
    """The lines indented under a directive (blank lines inside kept), and where it ends."""
    block, index = [], start
    while index < len(lines) and (not lines[index].strip() or lines[index].startswith(" ")):
        block.append(lines[index])
        index += 1
    while block and not block[-1].strip():
        block.pop()
        index -= 1
    return block, index


def list_table(block: list[str]) -> list[str]:
    rows: list[list[str]] = []
    header_rows = 0
    for line in block:
        stripped = line.strip()
        if stripped.startswith(":header-rows:"):
            header_rows = int(stripped.split(":", 2)[2])
        elif stripped.startswith(":"):
            continue
        elif stripped.startswith("* - "):
            rows.append([stripped[4:]])
        elif stripped.startswith("- "):
            rows[-1].append(stripped[2:])
        elif stripped and rows:
            rows[-1][-1] += " " + stripped
    cells = [[inline(cell).replace("|", "\\|") for cell in row] for row in rows]
    out = []
    for number, row in enumerate(cells):
        out.append("| " + " | ".join(row) + " |")
        if number == max(header_rows, 1) - 1:
            out.append("|" + "---|" * len(row))
    return out


def markdown(rst: str) -> str:
    lines = rst.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.startswith(".. _") and line.endswith(":"):
            index += 1
            if index < len(lines) and not lines[index].strip():
                index += 1
            continue
        if line.strip() and following and len(set(following)) == 1 and following[0] in TITLE_LEVELS \
                and len(following) >= len(line.rstrip()):
            out.append(f"{TITLE_LEVELS[following[0]]} {inline(line.strip())}")
            index += 2
            continue
        directive = re.match(r"\.\. (code-block|list-table)::\s*(\S*)", line)
        if directive:
            block, index = indented_block(lines, index + 1)
            if directive.group(1) == "code-block":
                body = list(block)
                while body and not body[0].strip():
                    body.pop(0)
                margin = min(len(text) - len(text.lstrip()) for text in body if text.strip())
                out.append("```" + directive.group(2))
                out.extend(text[margin:] for text in body)
                out.append("```")
            else:
                out.extend(list_table(block))
            continue
        out.append(inline(line))
        index += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def rendered() -> dict[Path, str]:
    return {OUT / f"{guide.stem}.md": HEADER.format(name=guide.stem) + markdown(guide.read_text())
            for guide in sorted(GUIDES.glob("*.rst"))}


def main(argv: list[str]) -> int:
    wanted = rendered()
    stale = sorted({path for path, text in wanted.items() if not path.exists() or path.read_text() != text}
                   | {path for path in OUT.glob("*.md") if path not in wanted})
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is not what its guide gives: run python3 scripts/galaxy_docs.py")
        return 1 if stale else 0
    for path in OUT.glob("*.md"):
        if path not in wanted:
            path.unlink()
    for path, text in wanted.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
