"""The documentation holds together, without the network: every relative link and
#anchor in the README, docs/, the chart's README and ARCHITECTURE.md leads to a file or
heading that exists; the README stays a first screen with both set-up commands; and
every alert's runbook_url is a heading of docs/operations.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OPERATIONS = ROOT / "docs" / "operations.md"
RULES = ROOT / "alerts" / "hfharvest.rules.yml"
RUNBOOK_PREFIX = "https://github.com/hfharvest/hfharvest/blob/main/docs/operations.md#"
DOCS = sorted(
    {README, ROOT / "ARCHITECTURE.md", ROOT / "helm" / "hfharvest" / "README.md",
     *(ROOT / "docs").glob("*.md")}
)
README_MAX_LINES = 170

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target) or [text](target "title"); the text may hold code spans and brackets.
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a shell block is no heading)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def github_slug(heading: str) -> str:
    """GitHub's id for a heading (github-slugger): the rendered text in lower case,
    everything but letters, digits, `_`, `-` and spaces dropped, each space a hyphen."""
    text = INLINE_CODE.sub(lambda m: m.group(2), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link renders as its text
    text = re.sub(r"(\*\*|\*|~~)", "", text)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading id of a Markdown file, with GitHub's -1, -2 … for repeats."""
    seen: dict[str, int] = {}
    out = set()
    for line in prose_lines(path.read_text()):
        m = HEADING.match(line)
        if not m:
            continue
        slug = github_slug(m.group(2))
        if slug in seen:
            seen[slug] += 1
            out.add(f"{slug}-{seen[slug]}")
        else:
            seen[slug] = 0
            out.add(slug)
    return out


def links(path: Path) -> list[str]:
    """Every link target in the prose (code blocks and code spans are not links)."""
    out = []
    for line in prose_lines(path.read_text()):
        # A code span is not a link, but may be a link's text: keep a placeholder.
        line = INLINE_CODE.sub("code", line)
        out.extend(m.group(1) for m in LINK.finditer(line))
    return out


def test_github_slugs_as_github_makes_them() -> None:
    assert github_slug("HfharvestNoRecentSuccess") == "hfharvestnorecentsuccess"
    assert github_slug("Where the output goes: a folder, S3 or MinIO") == \
        "where-the-output-goes-a-folder-s3-or-minio"
    assert github_slug("`dataset.csv`, `dataset.parquet` and `quality.json`") == \
        "datasetcsv-datasetparquet-and-qualityjson"
    assert github_slug("Bad records: quarantined, not fatal") == "bad-records-quarantined-not-fatal"
    assert github_slug("Layers, bottom to top") == "layers-bottom-to-top"
    assert github_slug("snake_case and **bold**") == "snake_case-and-bold"


def test_a_shell_comment_in_a_code_block_is_not_a_heading(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("# Title\n\n```sh\n# 1. Run it\nrun\n```\n\n## Title\n")
    assert anchors(doc) == {"title", "title-1"}


def test_the_documents_are_there() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOCS}
    assert {"README.md", "ARCHITECTURE.md", "helm/hfharvest/README.md", "docs/outputs.md",
            "docs/history.md", "docs/operations.md", "docs/development.md"} <= names
    for doc in DOCS:
        assert doc.is_file(), doc


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(doc: Path) -> None:
    broken = []
    for target in links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …: not checked here
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        if not linked.exists():
            broken.append(f"{target}: no such file")
            continue
        if anchor:
            if linked.suffix != ".md" or linked.is_dir():
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(linked):
                broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_the_readme_links_every_other_document() -> None:
    """Also proves the link parser finds links at all, or the test above proves nothing."""
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in links(README) if "#" not in t[:1]}
    missing = [d.relative_to(ROOT).as_posix() for d in DOCS if d != README and d not in linked]
    assert not missing, f"README.md does not link {missing}"


def test_the_readme_is_a_first_screen_not_a_manual() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, \
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail to docs/"


def test_the_readme_shows_both_set_up_commands() -> None:
    """Each on a line of its own in a code block, to copy from."""
    code, fenced = set(), False
    for line in README.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            code.add(line.strip())
    for command in ("cargo run --release -- run", "scripts/test"):
        assert command in code, f"README.md shows no `{command}` in a code block"


def test_every_runbook_url_is_a_heading_of_the_operations_docs() -> None:
    headings = anchors(OPERATIONS)
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert rules
    for rule in rules:
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(RUNBOOK_PREFIX), f"{rule['alert']}: {url}"
        anchor = url.removeprefix(RUNBOOK_PREFIX)
        assert anchor in headings, f"{rule['alert']}: docs/operations.md has no heading #{anchor}"
