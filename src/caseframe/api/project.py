"""`Project`: the Python API a notebook user imports, and the one the CLI and web app call.

A project is a directory holding `caseframe.json`; its store is an SQLite file in that directory
or a PostgreSQL database named in the file. Feature areas are mixed in from sibling modules so
that each stays one concern.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from caseframe.api.agreement import AgreementMixin
from caseframe.api.analysis import AnalysisMixin
from caseframe.api.assessments import AssessmentsMixin
from caseframe.api.audit import AuditMixin
from caseframe.api.base import default_actor
from caseframe.api.batch import BatchMixin
from caseframe.api.cases import CasesMixin
from caseframe.api.codes import CodesMixin
from caseframe.api.codings import CodingsMixin
from caseframe.api.datasets import DatasetsMixin
from caseframe.api.documents import DocumentsMixin
from caseframe.api.frameworks import FrameworksMixin
from caseframe.api.memos import MemosMixin
from caseframe.api.privacy import PrivacyMixin
from caseframe.api.refi import RefiMixin
from caseframe.api.search import SearchMixin
from caseframe.api.sessions import SessionsMixin
from caseframe.api.suggest import SuggestMixin
from caseframe.api.transcribe import TranscribeMixin
from caseframe.api.users import UsersMixin
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store.core import Store
from caseframe.store.queries import project as project_q

CONFIG_NAME = "caseframe.json"
SQLITE_NAME = "project.sqlite"
CONFIG_FORMAT = 1


class Project(
    CasesMixin,
    FrameworksMixin,
    DocumentsMixin,
    CodesMixin,
    CodingsMixin,
    DatasetsMixin,
    MemosMixin,
    AnalysisMixin,
    AgreementMixin,
    RefiMixin,
    PrivacyMixin,
    SuggestMixin,
    AssessmentsMixin,
    UsersMixin,
    SessionsMixin,
    AuditMixin,
    TranscribeMixin,
    BatchMixin,
    SearchMixin,
):
    """One study and its store. `actor` is who the changes made through it are audited as
    (default: $CASEFRAME_ACTOR or the operating-system user); a write method's own `actor`
    argument overrides it for that call (the web workspace passes the signed-in user)."""

    def __init__(self, root: Path, store: Store, config: dict, actor: str | None = None):
        self.root = root
        self.store = store
        self.config = config
        self.actor = actor or default_actor()

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        directory: str | Path,
        db: str | None = None,
        name: str | None = None,
        actor: str | None = None,
    ) -> Project:
        root = Path(directory)
        if (root / CONFIG_NAME).exists():
            raise Conflict("a caseframe project already exists here", where=str(root))
        if root.exists() and not root.is_dir():
            raise InvalidInput("not a directory", where=str(root), hint="choose a folder path")
        if root.exists() and any(p.name != ".DS_Store" for p in root.iterdir()):
            raise Conflict(
                "the folder is not empty", where=str(root), hint="choose a new or empty folder"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(
                f"cannot create the folder: {exc.strerror}", where=str(root)
            ) from None
        url = db or f"sqlite:///{(root / SQLITE_NAME).resolve()}"
        config = {
            "format": CONFIG_FORMAT,
            "store": db or SQLITE_NAME,
            "name": name or root.resolve().name,
        }
        try:
            store = Store.create(url, where=str(root) if db is None else None)
            project = cls(root, store, config, actor)
            project._seed(config["name"])
        except BaseException:
            if db is None:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(root / SQLITE_NAME) + suffix).unlink(missing_ok=True)
            raise
        (root / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return project

    @classmethod
    def open(cls, directory: str | Path, actor: str | None = None) -> Project:
        root = Path(directory)
        if not root.exists():
            raise NotFound("no such project folder", where=str(root), hint="check the path")
        config_path = root / CONFIG_NAME
        if not config_path.is_file():
            raise InvalidInput(
                f"not a caseframe project (no {CONFIG_NAME})",
                where=str(root),
                hint="create one with 'caseframe init DIR' or pass --project DIR",
            )
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            store_ref = config["store"]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(
                f"{CONFIG_NAME} is damaged", where=str(config_path), hint="restore it from a backup"
            ) from None
        if config.get("format", 1) > CONFIG_FORMAT:
            raise InvalidInput(
                "the project file was written by a newer caseframe",
                where=str(config_path),
                hint="upgrade caseframe",
            )
        url = os.environ.get("CASEFRAME_DB") or store_ref
        if "://" not in url:
            sqlite_path = root / url
            if not sqlite_path.is_file():
                raise NotFound(
                    f"the project's store {url} is missing",
                    where=str(root),
                    hint="restore it from a backup",
                )
            url = f"sqlite:///{sqlite_path.resolve()}"
        store = Store.open(url, where=str(root) if "://" not in store_ref else None)
        return cls(root, store, config, actor)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def name(self) -> str:
        with self.store.read() as conn:
            return project_q.name(conn) or self.config.get("name", "")

    def _seed(self, name: str) -> None:
        """The project row and the built-in frameworks (not audited: nobody acted yet)."""
        from caseframe.frameworks.loader import builtin_frameworks
        from caseframe.store.queries import frameworks

        with self.store.transaction() as conn:
            project_q.insert(conn, name)
            for fw in builtin_frameworks():
                frameworks.insert(conn, fw)
