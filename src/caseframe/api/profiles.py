"""Site sustainability profiles: the ratings table, the project's scale anchors and profile
wording, every site's profile, the report's summary of them and the profile files."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.base import ProjectBase
from caseframe.api.matrix import framework_key
from caseframe.errors import InvalidInput, NotFound
from caseframe.store.lookup import case_row, coder_row, framework_row
from caseframe.store.queries import assessments as qa

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.profile_sets import ProfileSet
    from caseframe.analysis.profiles import SiteProfile
    from caseframe.model import Framework


class ProfilesMixin(ProjectBase):
    # -- settings: anchors and wording --------------------------------------------------------

    def _setting(self, key: str, default: Any = None) -> Any:
        with self.store.read() as conn:
            value = qa.setting(conn, key)
        return default if value is None else value

    def rating_framework(self, framework: str = "sis") -> Framework:
        """The framework with this project's scale anchors (SIS anchors are not published)."""
        from caseframe.analysis.profiles import rating_scale
        from caseframe.frameworks.loader import with_scale_anchors

        with self.store.read() as conn:
            key = framework_key(conn, framework)  # a typo gets the closest keys
        fw = self.framework(key)  # type: ignore[attr-defined]
        rating_scale(fw)
        anchors = self._setting(f"scale_anchors:{fw.key}")
        if anchors:
            fw = with_scale_anchors(fw, {int(k): v for k, v in anchors.items()})
        return fw

    def set_scale_anchors(
        self, framework: str, anchors: Mapping[int | str, str], *, actor: str | None = None
    ) -> Framework:
        """Replace the scale anchors of a framework for this project (values must be on the
        scale); an empty mapping restores the framework file's anchors."""
        from caseframe.frameworks.loader import with_scale_anchors

        fw = self.framework(framework)  # type: ignore[attr-defined]
        cleaned: dict[int, str] = {}
        for k, v in anchors.items():
            try:
                cleaned[int(k)] = v
            except (TypeError, ValueError):
                raise InvalidInput(f"scale anchor '{k}' is not a whole number") from None
        if cleaned:
            with_scale_anchors(fw, cleaned)  # validates
        key = f"scale_anchors:{fw.key}"
        with self.writing(actor) as w:
            before = qa.setting(w.conn, key)
            after = {str(k): v for k, v in cleaned.items()} if cleaned else None
            if after:
                qa.put_setting(w.conn, key, after)
            else:
                qa.delete_setting(w.conn, key)
            w.audit("update", "setting", key, before, after)
        return self.rating_framework(fw.key)

    def profile_wording(self, framework: str = "sis") -> dict:
        """Project overrides for profiles: risks {component: phrase}, key_questions
        {component: question}, notice (a banner, e.g. that the ratings are illustrative)."""
        return dict(self._setting(f"profiles:{framework.lower()}", {}))

    def set_profile_wording(
        self,
        framework: str = "sis",
        risks: Mapping[str, str] | None = None,
        key_questions: Mapping[str, str] | None = None,
        notice: str | None = None,
        *,
        actor: str | None = None,
    ) -> dict:
        fw = self.framework(framework)  # type: ignore[attr-defined]
        for comp in [*(risks or {}), *(key_questions or {})]:
            if fw.component(comp) is None:
                raise NotFound(f"unknown component '{comp}' in framework '{fw.key}'")
        before = self.profile_wording(fw.key)
        current = dict(before)
        if risks is not None:
            current["risks"] = {**current.get("risks", {}), **dict(risks)}
        if key_questions is not None:
            current["key_questions"] = dict(key_questions)
        if notice is not None:
            current["notice"] = notice
        with self.writing(actor) as w:
            qa.put_setting(w.conn, f"profiles:{fw.key}", current)
            w.audit("update", "setting", f"profiles:{fw.key}", before or None, current)
        return current

    # -- the ratings --------------------------------------------------------------------------

    def assessments_frame(
        self,
        site: str | None = None,
        framework: str = "sis",
        rater: str | None = None,
        status: str | None = None,
        include_suggested: bool = True,
    ) -> pd.DataFrame:
        from caseframe.analysis.ratings import ratings_frame

        with self.store.read() as conn:
            fw = framework_row(conn, framework)
            rows = qa.ratings(
                conn,
                fw.id,
                case_id=case_row(conn, site).id if site else None,
                rater_id=coder_row(conn, rater).id if rater else None,
                status=status,
                include_suggested=include_suggested,
            )
        return ratings_frame(rows, fw.key)

    # -- profiles -----------------------------------------------------------------------------

    def site_profiles(
        self,
        framework: str = "sis",
        at: str | date | None = None,
        group_by: list[str] | None = None,
    ) -> ProfileSet:
        """Each assessed site's latest profile (on or before `at`), with the previous one."""
        from caseframe.analysis.profile_sets import build_profile_set
        from caseframe.analysis.ratings import parse_date

        fw = self.rating_framework(framework)
        cutoff = parse_date(at) if at else None
        frame = self.assessments_frame(framework=fw.key, include_suggested=False)
        cases = self.cases_frame()  # type: ignore[attr-defined]
        wording = self.profile_wording(fw.key)
        return build_profile_set(fw, frame, cases, wording, group_by, cutoff)

    def site_profile(
        self, site: str, framework: str = "sis", at: str | date | None = None
    ) -> SiteProfile:
        key = self.case(site).key  # type: ignore[attr-defined]
        return self.site_profiles(framework, at).profile(key)

    def profiles_summary(self, framework: str = "sis", href: str = "profiles.html") -> dict:
        """A few lines for the study report: how many sites are rated, the ranking's ends and
        the most common risks, and where the full profiles are."""
        from caseframe.analysis.profile_sets import profiles_summary

        return profiles_summary(self.site_profiles(framework), href)

    def write_profiles(
        self,
        fmt: str,
        out: str | Path,
        site: str | None = None,
        framework: str = "sis",
        at: str | date | None = None,
    ) -> Path:
        from caseframe.reports.profiles import write_profiles

        return write_profiles(self, fmt, Path(out), site=site, framework=framework, at=at)
