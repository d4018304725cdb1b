"""The front door: the landing page's promises, the licences and the citation file.

What the landing page (``intro.md``) tells a newcomer is checked against the book itself: the
reading time against the chapters' word count, "under a minute" against the execution times
recorded in the committed notebooks, and the map of the book against the table of contents.
The browser test (``tests/test_browser.py``) checks what a reader sees of the same things.
"""

from __future__ import annotations

import re
import sys

import yaml
from test_book import ROOT, toc_files

import rnnbias

sys.path.insert(0, str(ROOT / "scripts"))
from execute_notebooks import recorded_seconds

INTRO = ROOT / "intro.md"
CHAPTERS = [f for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def test_reading_time_on_the_landing_page_matches_the_chapters():
    """The landing page's totals are those of scripts/reading_time.py (which writes each
    chapter's time and the course page's table), rounded as the sentence rounds them."""
    import reading_time

    text = " ".join(INTRO.read_text().split())
    claimed = re.search(
        r"about ([\d,]+) words of text: about (\w+) hours to read and run at a careful pace "
        r"\(100 words and 20 lines of code a minute\), plus about (\w+) hours for all (\d+) "
        r"exercises",
        text,
    )
    assert claimed, "the landing page no longer states the reading time"
    chapters = [reading_time.measure(ROOT / f"{nb}.ipynb") for nb in CHAPTERS]
    assert reading_time.WORDS_PER_MINUTE == 100 and reading_time.LINES_PER_MINUTE == 20
    words = sum(c.words for c in chapters)
    assert int(claimed[1].replace(",", "")) == round(words, -3), (claimed[1], words)
    hours = {"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
    assert hours[claimed[2]] == round(sum(c.reading_minutes for c in chapters) / 60)
    assert hours[claimed[3]] == round(sum(c.exercise_minutes for c in chapters) / 60)
    assert int(claimed[4]) == sum(c.exercises for c in chapters)


def test_chapter_times_and_the_course_table_are_current():
    import reading_time

    assert reading_time.update(check=True) == [], "run scripts/reading_time.py"


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
    titles = re.findall(r'class="book-map-title">(\d+) · ', svg)
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
        assert re.search(r"Introduced in\s+\{doc\}`\d\d_", entry), entry.splitlines()[0]
