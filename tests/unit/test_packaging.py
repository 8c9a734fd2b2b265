"""The wheel ships every code package and every resource file the platform runs on."""

import glob
import subprocess
import tomllib
from pathlib import Path

from setuptools import find_packages

from cdp.config import RESOURCE_PACKAGE, packaged

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
#: files of the resource folders that are not resources (dbt's cookie, the package markers)
NOT_SHIPPED = {".user.yml", "__init__.py"}


def resource_packages() -> dict[str, str]:
    return {
        package: folder
        for package, folder in SETUPTOOLS["package-dir"].items()
        if package.startswith(f"{RESOURCE_PACKAGE}.")
    }


def test_every_code_package_is_listed():
    code = find_packages(where=str(ROOT), include=["cdp*", "spark_jobs*", "identity*"])
    assert sorted(SETUPTOOLS["packages"]) == sorted(code + list(resource_packages()))


def test_every_tracked_resource_file_is_package_data():
    for package, folder in resource_packages().items():
        tracked = subprocess.run(
            ["git", "ls-files", folder], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.split()
        expected = {
            str(Path(f).relative_to(folder)) for f in tracked if Path(f).name not in NOT_SHIPPED
        }
        shipped = {
            match
            for pattern in SETUPTOOLS["package-data"][package]
            for match in glob.glob(pattern, root_dir=ROOT / folder, recursive=True)
        }
        assert expected, f"no tracked files in {folder}"
        assert expected - shipped == set(), f"{folder}: files the wheel would leave out"


def test_resources_are_found_through_the_installed_package():
    assert (packaged("dbt_project") / "dbt_project.yml").is_file()
    assert (packaged("expectations") / "silver.yml").is_file()
    assert (packaged("segments") / "_activation.yml").is_file()
