"""The dependency rules of the style guide, checked on the source (imports, by AST):
- an app uses another app through its services and selectors, never its models;
- `credits` imports no other app of ours (only the shared `common`).
A type-only import (under `if TYPE_CHECKING:`) is not a dependency and is not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "teams", "credits", "billing", "headshots", "characters", "staff")
# Where another app's models are the point: a model's foreign keys, Django admin's inlines
# and columns, migrations, and the demo data that seeds every app.
MODELS_ALLOWED_IN = ("models.py", "admin.py", "demo.py", "migrations/", "management/commands/")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file that runs (type-checking blocks left out)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if "." in node.module:  # `from teams.models import Team`
                found.append((node.lineno, node.module))
            else:  # `from teams import models, selectors`
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        yield path, path.relative_to(ROOT / app).as_posix()


def test_apps_use_each_other_through_services_and_selectors_not_models():
    crossings = []
    for app in APPS:
        for path, inside in _sources(app):
            if any(
                inside == allowed or inside.startswith(allowed) for allowed in MODELS_ALLOWED_IN
            ):
                continue
            for line, module in _imports(path):
                parts = module.split(".")
                if parts[0] in APPS and parts[0] != app and parts[1:2] == ["models"]:
                    crossings.append(f"{app}/{inside}:{line} imports {module}")
    assert crossings == []


def test_credits_imports_no_other_app_of_ours():
    others = [
        f"credits/{inside}:{line} imports {module}"
        for path, inside in _sources("credits")
        for line, module in _imports(path)
        if module.split(".")[0] in APPS and module.split(".")[0] != "credits"
    ]
    assert others == []
