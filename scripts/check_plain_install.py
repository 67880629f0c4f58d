"""A plain install runs every command: a fresh virtual environment with the README's
`pip install -e .` and no extras, the README's first command (`caseframe demo`: it serves, and the
printed one-time password must sign in), then one call per command group on the demo project. Any
traceback or unexpected non-zero exit fails; a method whose extra is missing must answer with one
line naming it.

    python3 scripts/check_plain_install.py [--keep DIR]     (.ci/run and scripts/test run it first)
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTERVIEW = """Interviewer: How was the funding arranged?
Manager: We had full external funding for the peer support workers, and the steering group met
every month to follow the work.
Interviewer: And supervision?
Manager: There was no supervision at first; I carried it myself, which was hard.
"""


class Checker:
    def __init__(self, caseframe: Path, work: Path, own_install: bool = True):
        self.caseframe = caseframe
        self.work = work
        self.failures: list[str] = []
        self.count = 0
        key = work / "keys" / "study.cfkey"
        key.parent.mkdir()
        self.env = {
            **os.environ,
            "CASEFRAME_KEY": str(key),
            "CASEFRAME_KEY_PASSPHRASE": "plain-install check passphrase",
            "CASEFRAME_ACTOR": "ci",
        }
        if own_install:
            self.env.pop("PYTHONPATH", None)  # the installed package only

    def call(self, *args: str, stdin: str = "", fails_with: str | None = None) -> str:
        """Run `caseframe ARGS` (from the repository root, as the README does)."""
        self.count += 1
        started = time.perf_counter()
        done = subprocess.run(
            [str(self.caseframe), *args],
            cwd=REPO,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        took = time.perf_counter() - started
        shown = " ".join(a if " " not in a else repr(a) for a in args)
        both = done.stdout + done.stderr
        problem = None
        if "Traceback" in both:
            problem = "printed a traceback"
        elif fails_with is None and done.returncode != 0:
            problem = f"exited {done.returncode}"
        elif fails_with is not None:
            lines = done.stderr.strip().splitlines()
            if done.returncode == 0:
                problem = "succeeded, but should have refused"
            elif len(lines) != 1 or fails_with not in lines[0]:
                problem = f"should print one line containing {fails_with!r}"
        status = "FAIL" if problem else "ok"
        print(f"{status:4} {took:5.1f}s caseframe {shown}", flush=True)
        if problem:
            self.failures.append(f"caseframe {shown}: {problem}\n{both[-3000:]}")
        return done.stdout


def make_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, stdout=subprocess.DEVNULL)
    # the README's install (`pip install -e .`, no extras) of a copy of the tree, so that the
    # build leaves nothing in the checkout
    source = where.parent / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".venv-qc", ".git", "bench", "build", "*.egg-info", "__pycache__"
        ),
    )
    subprocess.run([*pip, "-e", str(source)], check=True)
    return where / "bin" / "caseframe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_demo_serves(cf: Checker, out: Path) -> None:
    """The README's first command as written (it serves): the workspace answers, the printed
    one-time password signs the demo owner in, the overview shows the study; then Ctrl+C."""
    cf.count += 1
    port = free_port()
    proc = subprocess.Popen(
        [str(cf.caseframe), "demo", "--out", str(out), "--port", str(port)],
        cwd=REPO, env=cf.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        password = None
        for line in proc.stdout:
            lines.append(line)
            if line.strip().startswith("password:"):
                password = line.split()[1]
                break
        if password is None:
            raise RuntimeError("the demo printed no one-time password")
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 120
        while True:
            try:
                login = opener.open(base + "/login", timeout=10).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        token = re.search(r'name="csrf-token" content="([^"]*)"', login)[1]
        form = {"name": "demo", "password": password, "csrf_token": token}
        page = opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=30)
        overview = page.read().decode()
        if "A5" not in overview:
            raise RuntimeError(f"signing in did not reach the overview ({page.url})")
    except Exception as exc:  # noqa: BLE001 - reported with the demo's own output
        cf.failures.append(f"caseframe demo (serving): {exc}\n{''.join(lines)[-3000:]}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            rest = proc.communicate()[0]
        if "Traceback" in "".join(lines) + (rest or ""):
            cf.failures.append(f"caseframe demo (serving) printed a traceback:\n{rest[-3000:]}")


def run_checks(cf: Checker) -> None:
    w = cf.work
    demo = w / "demo"
    cf.call("--help")
    check_demo_serves(cf, w / "served-demo")  # the README's first command, serving
    cf.call("demo", "--out", str(demo), "--no-serve")
    p = ["-p", str(demo / "project")]
    cf.call(*p, "cases", "list", "--json")
    cf.call(*p, "cases", "table", "--by", "setting")
    cf.call(*p, "codes", "list", "--json")
    cf.call(*p, "codes", "tree")
    codings = json.loads(cf.call(*p, "codings", "list", "--json") or "[]")
    cf.call(*p, "documents", "list", "--json")
    cf.call(*p, "framework", "list")
    cf.call(*p, "framework", "show", "sis", "--json")
    cf.call(
        *p, "protocol", "--framework", "sis", "--format", "docx", "--out", str(w / "guide.docx")
    )
    cf.call(*p, "quotes", "Incentives and conditions", "--by", "respondent")
    cf.call(*p, "matrix", "--rows", "site", "--cols", "sis", "--cell", "valence")
    cf.call(*p, "cooccurrence", "--scope", "overlap", "--measure", "jaccard")
    cf.call(*p, "coverage", "--framework", "sis")
    for fmt in ("html", "docx", "md"):
        cf.call(*p, "report", "--format", fmt, "--out", str(w / f"report.{fmt}"))
    (w / "interview.txt").write_text(INTERVIEW, encoding="utf-8")
    cf.call(*p, "import", str(w / "interview.txt"), "--case", "A5")
    cf.call(*p, "memo", "add", "project", "Plain-install check")
    cf.call(*p, "memo", "list")
    cf.call(*p, "coders", "list")
    # a second coder on a passage the study coded, so that agreement has a unit in common
    if codings:
        first = codings[0]
        cf.call(
            *p, "code", str(first["document"]), str(first["start"]), str(first["end"]),
            str(first["code_path"]), "--coder", "KG",
        )  # fmt: skip
        cf.call(*p, "agreement", "--coders", f"{first['coder']},KG", "--json")
    else:
        cf.failures.append("codings list --json gave no codings on the demo project")
    cf.call(*p, "export", "codings", "--format", "xlsx", "--out", str(w / "codings.xlsx"))
    cf.call(*p, "export", "qdpx", str(w / "study.qdpx"))
    cf.call(*p, "export", "qdc", str(w / "codebook.qdc"))
    cf.call(*p, "export", "matrix", "--format", "xlsx", "--out", str(w / "matrix.xlsx"))
    cf.call("import", "qdpx", str(w / "study.qdpx"), "--new", str(w / "imported"))
    cf.call(*p, "privacy", "key", "create")
    cf.call(*p, "privacy", "scan", "--out", str(w / "review.csv"))
    cf.call(*p, "profile", "--format", "html", "--out", str(w / "profiles.html"))
    cf.call(*p, "profile", "--json")
    cf.call(*p, "assess", "list")
    cf.call(*p, "codes", "add-framework", "sis")
    cf.call(*p, "suggest", "run", "--framework", "sis", "--method", "definitions")
    for method in ("supervised", "baseline"):
        cf.call(*p, "suggest", "run", "--method", method, "--documents", "interview.txt")
    cf.call(*p, "suggest", "list", "--json")
    # methods whose extra a plain install leaves out: one line, naming what to install
    cf.call(
        *p, "suggest", "run", "--method", "llm", "--documents", "interview.txt",
        fails_with="pip install 'caseframe[llm]'",
    )  # fmt: skip
    cf.call(
        *p, "suggest", "run", "--method", "embeddings", "--model-path", str(w),
        "--documents", "interview.txt", fails_with="pip install 'caseframe[embeddings]'",
    )  # fmt: skip
    cf.call(*p, "users", "add", "kg", "--role", "owner", stdin="a long enough password\n")
    cf.call(*p, "users", "list")
    cf.call(*p, "audit", "--json")
    cf.call(*p, "serve", "--help")
    cf.call(*p, "bench", "suggest", "--help")
    cf.call("init", str(w / "fresh"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    parser.add_argument(
        "--caseframe", type=Path, help="check this installed command instead of a fresh venv"
    )
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="caseframe-plain-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        caseframe = args.caseframe
        if caseframe is None:
            print(f"plain install: fresh venv in {base} (pip install -e ., no extras)", flush=True)
            caseframe = make_venv(base / "venv")
            print(f"installed in {time.perf_counter() - started:.0f}s", flush=True)
        work = base / "work"
        work.mkdir()
        checker = Checker(caseframe, work, own_install=args.caseframe is None)
        run_checks(checker)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    if checker.failures:
        print("\n\n".join(checker.failures), file=sys.stderr)
        sys.exit(f"plain install: {len(checker.failures)} of {checker.count} calls failed")
    print(f"plain install: {checker.count} calls, all as expected")


if __name__ == "__main__":
    main()
