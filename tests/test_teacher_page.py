"""The teacher's page has what a teacher plans with (prerequisites, objectives, a 90-minute class, a two-week
module, a quiz, misconceptions), every quiz answer is folded in a ``teacher-only`` block that a student edition can
strip, and every exercise it names exists in the notebooks. Read from the Markdown source: no site build."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "teacher.md").read_text(encoding="utf-8")
SECTIONS = ("## Before the class: prerequisites and a 10-minute recap", "## Learning objectives",
            "## A 90-minute class", "## A two-week module", "## Quiz", "## Common misconceptions",
            "## Slide figures and handout")


def _section(title: str) -> str:
    start = PAGE.index(title)
    following = PAGE.find("\n## ", start + len(title))
    return PAGE[start:following if following > 0 else None]


def test_the_page_has_every_section_in_order():
    positions = [PAGE.find(title) for title in SECTIONS]
    assert all(position >= 0 for position in positions), [t for t, p in zip(SECTIONS, positions) if p < 0]
    assert positions == sorted(positions)


def test_every_quiz_question_has_exactly_one_folded_teacher_only_answer():
    quiz = _section("## Quiz")
    questions = re.findall(r"^\*\*(\d+)\.\*\* ", quiz, re.M)
    assert 10 <= len(questions) <= 15 and questions == [str(n) for n in range(1, len(questions) + 1)], questions
    answers = re.findall(r"^:::\{admonition\} Answer\n:class: (.+)\n", quiz, re.M)
    assert len(answers) == len(questions)
    assert all(set(classes.split()) >= {"dropdown", "teacher-only"} for classes in answers), answers
    # no answer outside its block: each question is followed by its block before the next question
    blocks = re.split(r"^\*\*\d+\.\*\* ", quiz, flags=re.M)[1:]
    assert all(block.count(":::{admonition} Answer") == 1 for block in blocks)


def test_the_class_plan_is_timed_to_90_minutes():
    plan = _section("## A 90-minute class")
    blocks = [(int(a), int(b)) for a, b in re.findall(r"^\*\*(\d+)-(\d+) min · ", plan, re.M)]
    assert blocks[0][0] == 0 and blocks[-1][1] == 90
    assert all(end == start for (_, end), (start, _) in zip(blocks, blocks[1:])), blocks


def test_every_exercise_the_page_names_exists():
    labels = set(re.findall(r"\{ref\}`[^`<]*<(nb0\d-[a-z-]+)>`", PAGE))
    assert labels
    defined = set()
    for path in (ROOT / "notebooks").glob("*.py"):
        defined |= set(re.findall(r"^# :label: (nb0\d-[a-z-]+)$", path.read_text(), re.M))
    assert labels <= defined, sorted(labels - defined)
