"""The README's two commands stay true: CI runs the README's test command verbatim."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Set up and run.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_a_main_job_and_a_test_command():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert commands[0].endswith("nox -s verify") and commands[1].endswith("nox -s tests"), commands


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines(), ci


def test_noxfile_sessions_named_in_the_readme_exist():
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    for session in ("verify", "tests", "lint", "bench"):
        assert f"def {session}(session" in noxfile, session


def test_verify_takes_install_arguments_out_of_the_pytest_arguments():
    import importlib.util

    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    args = ["--install", "./mypkg", "--lineage-target", "gae=mypkg.adv:f", "--install=mypkg2==1.0", "-k", "gae"]
    assert noxfile.split_installs(args) == (
        ["./mypkg", "mypkg2==1.0"],
        ["--lineage-target", "gae=mypkg.adv:f", "-k", "gae"],
    )
