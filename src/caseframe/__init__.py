"""caseframe: framework-guided qualitative analysis for implementation case studies."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so that `import caseframe` stays cheap for the CLI's --help.
    if name == "Project":
        from caseframe.api.project import Project

        return Project
    raise AttributeError(name)
