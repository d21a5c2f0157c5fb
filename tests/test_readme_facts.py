"""What the README and the course site's home page state about the code matches the code: the task table lists
every registered task, the command blocks name every subcommand of both command lines, the teacher's pack has the
stated size and shows the README's headline numbers, and the home page's account of the small budget matches
the notebooks' settings. Every expected value is read from the text and compared with the code, so editing either
alone fails here."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import pytest

from cebe_theory.bounds_report import transfer_contexts

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
HOME = (ROOT / "docs" / "index.md").read_text()
NUMBER_WORDS = {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start: following if following != -1 else len(text)]


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return set(commands.choices)


def _documented(program: str) -> set[str]:
    """Subcommands of ``program`` that start a command line in the README's ```bash blocks."""
    lines = [line.strip() for block in re.findall(r"```bash\n(.*?)```", README, re.S) for line in block.splitlines()]
    return {line.split()[1] for line in lines if line.startswith(program + " ") and not line.split()[1].startswith("-")}


def test_the_task_table_lists_every_registered_task():
    from cebe_deep.tasks import TASKS

    section = _section(README, "## The contextual tasks")
    table = section[section.index("| task | context (c0) |"):].split("\n\n")[0]
    listed = re.findall(r"^\| `(\w+)`", table, re.M)
    assert sorted(listed) == sorted(TASKS), f"README task table: {listed}; registered: {list(TASKS)}"
    (count,) = re.findall(r"\| (\w+) contextual control tasks", README)
    assert NUMBER_WORDS[count] == len(TASKS), f"the README says {count} tasks; {len(TASKS)} are registered"


@pytest.mark.parametrize("program, module", [("cebe-theory", "cebe_theory.cli"), ("cebe-deep", "cebe_deep.cli")])
def test_the_command_blocks_name_every_subcommand(program, module):
    parser = importlib.import_module(module).build_parser()
    assert _documented(program) == _subcommands(parser), program


def _teacher_pack():
    spec = importlib.util.spec_from_file_location("teacher_pack", ROOT / "docs" / "teacher_pack.py")
    pack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pack)
    return pack


def test_the_teacher_pack_figures_have_the_stated_size(tmp_path):
    width, height = (int(size) for size in re.search(r"PNG of (\d+) x (\d+) px", README).groups())
    assert f"PNG ({width} x {height} px)" in (ROOT / "docs" / "teacher.md").read_text()
    pack = _teacher_pack()
    facts: dict = {}
    with plt.rc_context(pack.SLIDE_STYLE):
        paths = pack.figure1(tmp_path, 12, facts) + pack.theorem4(tmp_path, 12, facts)
    for path in (path for path in paths if path.suffix == ".png"):
        rows, columns = matplotlib.image.imread(path).shape[:2]
        assert (columns, rows) == (width, height), path.name


def test_the_handout_shows_the_readme_headline_numbers(tmp_path):
    # The README's Figure 1a slope (table) and Theorem 4 ratio (bound table), against what the handout computes
    # at its default settings.
    slope = float(re.search(r"^\| Figure 1a, .*? \| ([0-9.]+) \|", README, re.M).group(1))
    ratio = float(re.search(r"^\| Theorem 4, Cliffwalking, (\d+) contexts.*?\| ([0-9.]+) \(exact PI\)", README, re.M).group(2))
    contexts = int(re.search(r"^\| Theorem 4, Cliffwalking, (\d+) contexts", README, re.M).group(1))
    pack = _teacher_pack()
    points = inspect.signature(pack.build).parameters["points"].default
    facts: dict = {}
    with plt.rc_context(pack.SLIDE_STYLE):
        pack.figure1(tmp_path, points, facts)
        pack.theorem4(tmp_path, points, facts)
    assert round(facts["slope_inverse"], 4) == slope
    assert (facts["theorem4_contexts"], round(facts["theorem4_ratio"], 2)) == (contexts, ratio)


def test_the_home_page_states_what_the_small_budget_changes():
    notebook01 = (ROOT / "notebooks" / "01_cmdp_and_cebe.py").read_text()
    small, full = re.search(r"^POINTS = (\d+) if SMALL else (\d+)$", notebook01, re.M).groups()
    assert f"comes from {small} dc instead of {full}" in HOME
    assert f"from {len(transfer_contexts(quick=True))} test contexts instead of {len(transfer_contexts())}" in HOME
    assert "contexts = transfer_contexts(quick=SMALL)" in (ROOT / "notebooks" / "02_bounds_and_policy_transfer.py").read_text()
    notebook03 = (ROOT / "notebooks" / "03_cse_from_scratch.py").read_text()
    (small_seeds, small_steps), (full_seeds, full_steps) = re.findall(
        r"seeds, total_steps, [\w, ]+ = (\d+), (\d+),", notebook03
    )
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    assert (f"from {words[int(small_seeds)]} seed of {small_steps} env steps per method instead of "
            f"{words[int(full_seeds)]} of {full_steps}") in " ".join(HOME.split())
    assert "CEBE_NOTEBOOK_BUDGET=small" in HOME


def test_the_site_is_built_at_the_budget_the_home_page_names():
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert re.search(r'os\.environ\["CEBE_NOTEBOOK_BUDGET"\] = os\.environ\.get\("CEBE_DOCS_BUDGET", "small"\)', conf)


@pytest.fixture(scope="module")
def committed_verdicts():
    """The protocol's verdict table of every committed results/authors folder (results/PROTOCOL.md), and of the
    re-runs of a whole folder (results/reruns/<Folder>-rerun)."""
    from cebe_deep.report.protocol import verdict_table

    folders = sorted(path.parent for part in ("authors", "reruns") for pattern in ("*/zero_action.csv",
                                                                                  "*/first-seeds/zero_action.csv")
                     for path in (ROOT / "results" / part).glob(pattern))
    return verdict_table(folders, simulate_missing=False)


def test_the_verdict_tables_are_the_protocols_on_the_committed_results(committed_verdicts):
    # Every `<!-- report protocol ... -->` block of the README and results/README.md holds what the package prints
    # for the folders it names from the committed CSVs: a verdict edited by hand, or results committed without
    # refreshing the block (`cebe-deep report readme FILE --only protocol`), fail here.
    import pandas as pd

    from cebe_deep.report.protocol import block_arguments, mark_reruns, render_compact, render_markdown
    from cebe_deep.report.protocol.verdicts import folder_label
    from cebe_deep.report.readme import BLOCK

    found = []
    for path in (ROOT / "README.md", ROOT / "results" / "README.md"):
        for match in BLOCK.finditer(path.read_text()):
            name, *arguments = match.group("command").split()
            if name != "protocol":
                continue
            options = block_arguments(arguments, path.parent)
            table = pd.concat([committed_verdicts[committed_verdicts["folder"] == folder_label(folder)]
                               for folder in options["folders"]], ignore_index=True)
            assert len(table) >= len(options["folders"]), f"{path}: a block names a folder without results"
            if options["reruns"] is not None:
                table = mark_reruns(table, committed_verdicts[committed_verdicts["folder"].str.endswith("-rerun")])
            expected = (render_compact if options["compact"] else render_markdown)(table)
            assert match.group("body") == expected, f"{path.relative_to(ROOT)}: refresh its protocol block"
            found.append(str(path.relative_to(ROOT)))
    assert found == ["README.md", "results/README.md", "results/README.md"], (
        "the README opens with the table; results/README.md opens with it and sets the re-runs beside it")


def test_the_replication_tables_are_the_packages_on_the_committed_results(capsys):
    # results/README.md's `<!-- report replication TABLE RERUN... -->` block (does a verdict's size survive its
    # re-run?) holds what `cebe-deep report replication` prints for those folders, and names every folder re-run whole
    # (results/reruns/): the Holm family of results/PROTOCOL.md, section 8, is all of them, whatever their outcome.
    from cebe_deep.report.protocol import print_replication
    from cebe_deep.report.readme import BLOCK

    path = ROOT / "results" / "README.md"
    blocks = [match for match in BLOCK.finditer(path.read_text()) if match.group("command").split()[0] == "replication"
              and "--spread" not in match.group("command").split()]
    assert len(blocks) == 1, "results/README.md sets the re-runs' sizes beside the tables' in one block"
    arguments = blocks[0].group("command").split()[1:]
    assert sorted(arguments[1::2]) == sorted(f"reruns/{folder.name}" for folder in (ROOT / "results" / "reruns").iterdir()
                                             if folder.is_dir())
    capsys.readouterr()
    print_replication([path.parent / argument for argument in arguments])
    assert blocks[0].group("body") == capsys.readouterr().out, "refresh results/README.md's replication block"


def test_the_spread_of_the_reruns_is_the_packages_and_the_text_quotes_it(capsys):
    # results/README.md's `<!-- report replication ... --spread -->` block (exploratory: how much the seeds of a table
    # and of its re-run spread) covers the same pairs as the replication block and holds what the package prints;
    # the CheetahVelocity sentences of README.md and results/README.md quote its standard deviations, ranges and
    # Levene p's, and results/README.md the re-runs' last-quarter training returns from its training block.
    from cebe_deep.report.protocol import print_replication
    from cebe_deep.report.readme import BLOCK

    path = ROOT / "results" / "README.md"
    text = path.read_text()
    commands = {tuple(match.group("command").split()): match.group("body") for match in BLOCK.finditer(text)}
    spread = [command for command in commands if command[0] == "replication" and "--spread" in command]
    sizes = [command for command in commands if command[0] == "replication" and "--spread" not in command]
    assert len(spread) == 1 and [a for a in spread[0] if a != "--spread"] == list(sizes[0]), (
        "one spread block, over the replication block's pairs")
    capsys.readouterr()
    print_replication([path.parent / argument for argument in spread[0][1:] if argument != "--spread"], spread=True)
    assert commands[spread[0]] == capsys.readouterr().out, "refresh results/README.md's spread block"
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): [cell.strip() for cell in line.split("|")[3:-1]]
            for line in commands[spread[0]].splitlines() if line.startswith("| CheetahVelocity |")}
    sd = {method: rows["CheetahVelocity", method][1].split(", ") for method in ("SAC", "CSE", "LDR")}
    levene = {method: rows["CheetahVelocity", method][3] for method in ("SAC", "CSE")}
    ranges = {method: rows["CheetahVelocity", method][2].split("; ") for method in ("SAC", "CSE")}
    results_text = " ".join(text.split())
    readme_text = " ".join(README.split())
    for where in (results_text, readme_text):
        assert f"{sd['CSE'][1]} for CSE and {sd['SAC'][1]} for SAC" in where
        assert f"{sd['CSE'][0]} and {sd['SAC'][0]}" in where
    assert f"Levene p {levene['CSE']} and {levene['SAC']}" in readme_text
    assert f"p {levene['CSE']} (CSE) and {levene['SAC']} (SAC)" in results_text
    for method in ("SAC", "CSE"):
        table, rerun = ranges[method]
        assert f"{method} ranges from {rerun} against {table}" in results_text.replace("SAC from", "SAC ranges from")
    # results/PROTOCOL.md section 9 sizes the settling sample from the CSE - SAC spreads of the two tables
    difference = rows["CheetahVelocity", "CSE - SAC"][1].split(", ")
    settle = " ".join(_section((ROOT / "results" / "PROTOCOL.md").read_text(), "## 9.").split())
    assert f"was {difference[0]} in the committed table and {difference[1]} in the re-run" in settle
    from scipy import stats

    critical = stats.t.ppf(0.975, 19)
    half = [critical * float(sd) / 20 ** 0.5 for sd in difference]
    assert f"half-width with 20 seeds is then {half[0]:.3f} or {half[1]:.3f}" in settle
    power = {gain: [1 - stats.nct.cdf(critical, 19, gain / (float(sd) / 20 ** 0.5)) for sd in difference]
             for gain in (0.058, 0.028)}
    assert f"with probability about {power[0.058][0]:.2f} or {power[0.058][1]:.2f}" in settle
    assert f"with about {power[0.028][0]:.2f} or {power[0.028][1]:.2f}" in settle
    training = next(body for command, body in commands.items() if command == ("training", "reruns"))
    last = {line.split(" | ")[1]: line.split(" | ")[-2] for line in training.splitlines()
            if line.startswith("| CheetahVelocity-rerun")}
    assert (f"last quarter SAC {last['baseline']}, CSE {last['cse']}, LDR {last['ldr']}" in results_text)


def test_the_pooled_block_is_the_packages_and_the_text_quotes_it(capsys):
    # results/README.md's `<!-- report pooled ... -->` block (post hoc, never a verdict) holds what the package prints,
    # and the sentence after it quotes its CSE - SAC interval.
    from cebe_deep.report.protocol import print_pooled
    from cebe_deep.report.readme import BLOCK

    path = ROOT / "results" / "README.md"
    text = path.read_text()
    (block,) = [match for match in BLOCK.finditer(text) if match.group("command").split()[0] == "pooled"]
    capsys.readouterr()
    print_pooled([path.parent / argument for argument in block.group("command").split()[1:]])
    assert block.group("body") == capsys.readouterr().out, "refresh results/README.md's pooled block"
    row = next(line for line in block.group("body").splitlines() if "| CSE - SAC |" in line)
    interval, word = re.search(r"\| (\S+ \[\S+ \S+\]) \*\*(\w+)\*\* \|$", row).groups()
    assert f'It would read "{word}", {interval}; it settles nothing' in " ".join(text.split())


def test_the_handouts_replication_question_reads_the_replication_table():
    # Quiz 15 of docs/teacher.md quotes uniform replay's row of results/README.md's replication block (itself the
    # package's output, above): the two endpoints' intervals (the re-run block), the change, its p-values, and how
    # many comparisons Holm's correction runs over.
    from cebe_deep.report.readme import BLOCK

    text = (ROOT / "results" / "README.md").read_text()
    block = next(match.group("body") for match in BLOCK.finditer(text)
                 if match.group("command").split()[0] == "replication")
    rows = [line.split(" | ") for line in block.splitlines() if line.startswith("| ") and not line.startswith("| table |")]
    uniform = next(row for row in rows if row[0] == "| PendulumGoal-uniform" and row[1] == "CSE - SAC")
    change = uniform[4].removesuffix(" **differs**")
    p, holm = re.fullmatch(r"([\d.]+) \(([\d.]+)\) \|", uniform[5]).groups()
    quiz = " ".join(_section((ROOT / "docs" / "teacher.md").read_text(), "**15.**").split())
    words = {4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight"}
    assert f"is {change} (p {p})" in quiz and f"{words[len(rows)]} comparisons were re-run" in quiz
    assert f"Holm's correction applies: {holm}," in quiz
    for name in ("PendulumGoal-uniform", "PendulumGoal-uniform-rerun"):
        interval = re.search(rf"^\| {name} \| 10 \| (\S+ \[\S+ \S+\]) \*\*beats\*\*", text, re.M).group(1)
        assert interval in quiz, name
    # its CheetahVelocity part: the verdict changes (the two tables' CSE - SAC intervals), the change is not shown
    cheetah = next(row for row in rows if row[0] == "| CheetahVelocity" and row[1] == "CSE - SAC")
    assert f"though the change, {cheetah[4]}, is not shown" in quiz
    for name, word in (("CheetahVelocity", "beats"), ("CheetahVelocity-rerun", "inconclusive")):
        interval = re.search(rf"^\| {name} \| 10 \| (\S+ \[\S+ \S+\]) \*\*{word}\*\*", text, re.M).group(1)
        assert interval in quiz, name


def test_the_readme_states_each_tasks_paired_seeds(committed_verdicts):
    # "10 seeds on SimpleDirection, PendulumGoal, CheetahVelocity and CartGoal as the authors ran, 3 on
    # AntDirection": every task's count, as the README's results section names it, against the committed tables
    section = _section(README, "### Results: does CSE from one context work?")
    seeds = committed_verdicts.groupby("folder")["paired_seeds"].min()
    sentence = re.search(r"\d+ seeds on .+?AntDirection", section, re.S).group(0)
    claimed = {name: int(count)
               for count, names in re.findall(r"(\d+) (?:seeds )?on\s+((?:(?!\d+ on).)+?)(?=,\s+\d+ on|$)", sentence, re.S)
               for name in re.findall(r"[A-Z][A-Za-z]+", names)}
    tasks = ("SimpleDirection", "PendulumGoal", "CartGoal", "CheetahVelocity", "AntDirection")
    assert claimed == {task: int(seeds[task]) for task in tasks}


def test_the_handout_reads_the_readme_verdicts(committed_verdicts):
    # The handout's deep lines (docs/teacher_pack.py) against the README's protocol block: the same interval and
    # word per task and comparison, marked † exactly where the README names a disagreeing secondary analysis.
    pack = _teacher_pack()
    table = committed_verdicts[committed_verdicts["folder"].isin(pack.DEEP_TASKS)]
    handout = {line.split(" (")[0]: line for line in pack.verdict_lines(table)}
    block = README[README.index("<!-- report protocol results/authors/"):]
    rows = [line.split(" | ") for line in block[:block.index("<!-- end -->")].splitlines()
            if line.startswith("| ") and not line.startswith(("| task", "|---"))]
    assert sorted(handout) == sorted(row[0].lstrip("| ") for row in rows) == sorted(pack.DEEP_TASKS)
    for task, _, *cells in rows:
        line = handout[task.lstrip("| ")]
        for cell in cells:
            cell = cell.rstrip(" |")
            if cell == "not run":
                continue
            interval, word = re.match(r"(\S+ \[\S+, \S+\]) \*\*(\w+)\*\*", cell).groups()
            mark = "†" if "not under" in cell else ""
            assert re.search(re.escape(f"{interval} {word}{mark}") + r"(;|$)", line), (task, cell, line)


def test_the_own_env_write_up_holds_the_protocols_verdicts_at_its_eps():
    # results/own-env/README.md's protocol block (`--eps 0.625`, the stress test's radius) is what the package prints
    # from the committed CSVs, and the README's summary of it quotes the same two intervals.
    from cebe_deep.report.protocol import block_arguments, render_markdown, verdict_table
    from cebe_deep.report.readme import BLOCK

    path = ROOT / "results" / "own-env" / "README.md"
    blocks = [match for match in BLOCK.finditer(path.read_text()) if match.group("command").split()[0] == "protocol"]
    assert len(blocks) == 1
    options = block_arguments(blocks[0].group("command").split()[1:], path.parent)
    assert options["eps"] == 0.625
    table = verdict_table(options["folders"], simulate_missing=False, eps=options["eps"])
    assert blocks[0].group("body") == render_markdown(table), "refresh results/own-env/README.md's protocol block"
    section = " ".join(README.split())  # (a sentence may wrap inside an interval)
    for row in table.to_dict("records"):
        interval = f"{row['difference']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]"
        assert interval in section, f"the README's stress-test sentence should quote {row['comparison']} = {interval}"


def test_the_write_ups_count_the_settling_runs_staged():
    # results/PROTOCOL.md section 9's new CheetahVelocity sample trains across sessions; README.md and
    # results/README.md say how many of its 60 runs are staged, which must be what results/settle holds.
    staged = ROOT / "results" / "settle" / "CheetahVelocity-new-seeds" / "staged"
    runs = sorted(staged.glob("*/seed*/evaluation.csv.gz"))
    assert {run.parent.parent.name for run in runs} <= {"baseline", "cse", "ldr"}
    assert all(10 <= int(run.parent.name.removeprefix("seed")) <= 29 for run in runs)
    results_text = " ".join((ROOT / "results" / "README.md").read_text().split())
    readme_text = " ".join(README.split())
    if len(runs) == 60:
        pytest.skip("all 60 settling runs are staged: their own tables and verdict replace the count")
    assert f"{len(runs)} of its 60 runs staged so far" in results_text
    assert f"{len(runs)} of its 60 runs staged so far" in readme_text
    seeds = sorted({int(run.parent.name.removeprefix("seed")) for run in runs})
    if seeds:
        assert f"(seeds {seeds[0]}-{seeds[-1]}," in results_text
