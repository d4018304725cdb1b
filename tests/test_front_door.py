"""The front door: the landing page's promises, the licences and the citation file.

What the landing page (``intro.md``) tells a newcomer is checked against the book itself: the
reading time against the chapters' word count, "under a minute" against the execution times
recorded in the committed notebooks, and the map of the book against the table of contents.
The browser test (``tests/test_browser.py``) checks what a reader sees of the same things.
"""

from __future__ import annotations

import json
import re
import sys

import yaml
from test_book import ROOT, toc_files

import rnnbias

sys.path.insert(0, str(ROOT / "scripts"))
from execute_notebooks import recorded_seconds

INTRO = ROOT / "intro.md"
CHAPTERS = [f for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def _words(notebook: str) -> int:
    nb = json.loads((ROOT / f"{notebook}.ipynb").read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    return sum(len("".join(c["source"]).split()) for c in cells)


def test_reading_time_on_the_landing_page_matches_the_chapters():
    text = INTRO.read_text()
    claimed = re.search(r"about ([\d,]+) words of text, about (\w+)\s+hours of\s+reading", text)
    assert claimed, "the landing page no longer states the reading time"
    words = sum(_words(nb) for nb in CHAPTERS)
    assert int(claimed[1].replace(",", "")) == round(words, -3), (claimed[1], words)
    hours = {"three": 3, "four": 4, "five": 5, "six": 6}[claimed[2]]
    assert round(words / 200 / 60) == hours, words / 200 / 60


def test_every_notebook_ran_in_under_a_minute_when_committed():
    """ "Every notebook runs top to bottom on a laptop CPU in under a minute" (intro.md)."""
    sentence = "Every notebook runs top to bottom on a laptop CPU in under a minute"
    assert sentence in " ".join(INTRO.read_text().split())
    times = {nb: recorded_seconds(str(ROOT / f"{nb}.ipynb")) for nb in CHAPTERS}
    assert all(t > 0 for t in times.values()), f"notebooks without cell timings: {times}"
    assert max(times.values()) < 60, times


def test_the_map_of_the_book_links_every_chapter_in_order():
    svg = INTRO.read_text().split("<svg ", 1)[1].split("</svg>", 1)[0]
    links = re.findall(r'<a href="([^"]+)\.html">', svg)
    assert links == CHAPTERS, links
    titles = re.findall(r'class="book-map-title">(\d) · ', svg)
    assert titles == [str(i) for i in range(1, len(CHAPTERS) + 1)]


def test_licences_and_citation_file():
    mit = (ROOT / "LICENSE").read_text()
    assert mit.startswith("MIT License") and "The rnnbias authors" in mit
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "https://creativecommons.org/licenses/by/4.0/" in content
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == rnnbias.__version__
    assert set(cff["license"]) == {"MIT", "CC-BY-4.0"}
    cited = {ref["title"] for ref in cff["references"]}
    assert {
        "On the Implicit Bias of Gradient Descent for Temporal Extrapolation",
        "Learning Low Dimensional State Spaces with Overparameterized Recurrent Neural Nets",
    } <= cited
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    footer = config["html"]["extra_footer"]
    assert "CC BY 4.0" in footer and "MIT" in footer
    assert "Version " + rnnbias.__version__ in INTRO.read_text()  # the BibTeX entry


def test_glossary_entries_are_sorted_and_say_where_they_are_introduced():
    page = (ROOT / "chapters" / "glossary.md").read_text()
    assert "chapters/glossary" in toc_files()
    body = page.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    entries = re.split(r"\n(?=\S)", body.strip())
    terms = [e.splitlines()[0] for e in entries]
    assert len(terms) >= 25 and terms == sorted(terms, key=str.lower), terms
    for entry in entries:
        assert re.search(r"Introduced in\s+\{doc\}`0\d_", entry), entry.splitlines()[0]
