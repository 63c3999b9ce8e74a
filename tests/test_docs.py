"""The README stays a short user's guide, and README.md and docs/*.md stay linked and well-formed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
CI_COMMAND = re.compile(r"^python3 -m venv .venv && .* -m pytest")  # the grep of .ci/run
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
MARKER = re.compile(r"<!-- ([\w.-]+):(start|end) -->")


def _anchors(text: str) -> set[str]:
    """GitHub's anchors of the page's headings."""
    heads = re.findall(r"^#+ (.+)$", FENCE.sub("", text), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def test_readme_is_short():
    n = len(README.read_text().splitlines())
    assert n <= 250, f"README.md has {n} lines; move detail into docs/"


def test_readme_opens_with_the_two_commands():
    block = FENCE.search(README.read_text())
    assert block is not None
    commands = [ln for ln in block.group().splitlines() if ln.startswith("python3 -m venv .venv")]
    assert len(commands) == 2, commands
    install, ci = commands
    assert "arcnn restore src/arcnn/samples/astronaut-q10.jpg" in install
    assert CI_COMMAND.match(ci) and not CI_COMMAND.match(install)
    # .ci/run runs the first README line that matches: it must be this one.
    first = next(ln for ln in README.read_text().splitlines() if CI_COMMAND.match(ln))
    assert first == ci


def test_relative_links_and_images_exist():
    """Every relative link or image names an existing file (and heading, for a Markdown page)."""
    broken = []
    for page in PAGES:
        for target in LINK.findall(_prose(page.read_text())):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL (https:, mailto:) or an anchor on the same page
            path, _, anchor = target.partition("#")
            file = page.parent / path
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text()):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_generated_blocks_are_well_formed_and_unique():
    where: dict[str, list[str]] = {}
    for page in PAGES:
        text = page.read_text()
        starts = [m.group(1) for m in MARKER.finditer(text) if m.group(2) == "start"]
        for name in starts:
            where.setdefault(name, []).append(page.name)
        for name in set(starts):
            start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
            assert text.count(start) == 1 and text.count(end) == 1, f"{page.name}: {name}"
            assert text.index(start) < text.index(end), f"{page.name}: {name} ends before it starts"
        ends = {m.group(1) for m in MARKER.finditer(text) if m.group(2) == "end"}
        assert ends == set(starts), f"{page.name}: unmatched markers {ends ^ set(starts)}"
    assert where, "no generated blocks found"
    assert {n: w for n, w in where.items() if len(w) > 1} == {}, "a block is in more than one file"
    assert "headline" in where and where["headline"] == ["README.md"]


def test_readme_speed_table_is_made_from_the_frontier_table():
    """README.md's speed block is what ``benchmarks.frontier`` makes of docs/speed.md's frontier table
    (both written by one ``--write`` run; ``--from-docs --write`` remakes the block)."""
    from benchmarks._common import block_file, read_block
    from benchmarks.frontier import parse_block, readme_lines

    assert block_file("speed") == README and block_file("frontier").name == "speed.md"
    run, rows = parse_block(read_block("frontier"))
    stale = "README.md's speed block is stale: python -m benchmarks.frontier --from-docs --write"
    assert read_block("speed") == "\n".join(readme_lines(run, rows)), stale


def test_fast_targets_verdict_is_made_from_its_own_rows():
    """docs/speed.md's fast-targets block ends with the verdict ``benchmarks.frontier`` draws from the
    rows above it, all of LIVE1 per row (``--fast-targets --write`` measures and writes both)."""
    from benchmarks._common import read_block
    from benchmarks.frontier import fast_target_lines, parse_block

    run, rows = parse_block(read_block("fast-targets"))
    assert run["files"] == "29" and {r.files for r in rows} == {29}
    assert {r.method for r in rows} >= {"jpegqs default"}
    assert read_block("fast-targets").endswith("\n".join(fast_target_lines(rows)))


def test_readme_colour_table_is_made_from_the_results_table():
    """README.md's colour block is what ``benchmarks.colour`` makes of docs/results.md's colour
    table, and shows every quality of that table's 4:2:0 rows."""
    from benchmarks._common import block_file, read_block
    from benchmarks.colour import parse_block, readme_lines

    assert block_file("colour-readme") == README and block_file("colour").name == "results.md"
    label, n, by_q = parse_block(read_block("colour"))
    assert label == "LIVE1" and n == 29 and {10, 40} <= set(by_q)
    stale = "README.md's colour block is stale: python -m benchmarks.colour --from-docs --write"
    assert read_block("colour-readme") == "\n".join(readme_lines(label, n, by_q)), stale


def test_readme_models_table_lists_the_registry():
    """README.md's models block is ``benchmarks.models_table``'s (run with ``--write`` after a model
    is added or rescored)."""
    from benchmarks._common import read_block
    from benchmarks.models_table import readme_lines

    assert read_block("models") == "\n".join(readme_lines()), "python -m benchmarks.models_table --write"
