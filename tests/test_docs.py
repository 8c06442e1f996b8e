"""Docs are tested: the schema page and the CLI reference are generated from the code and must match."""

from pathlib import Path

from envoywatch.schema import TABLES, schema_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_schema_doc_matches_code():
    doc = (ROOT / "docs" / "schema.md").read_text()
    assert doc.strip() == schema_markdown().strip(), "regenerate: python -m envoywatch.schema > docs/schema.md"
    for name in TABLES:
        assert f"## `{name}`" in doc


def test_cli_reference_matches_help():
    from envoywatch.cli.reference import cli_markdown

    doc = (ROOT / "docs" / "cli.md").read_text()
    assert doc.strip() == cli_markdown().strip(), "regenerate: python -m envoywatch.cli.reference > docs/cli.md"


def test_every_command_is_documented_in_cli_reference():
    import click

    from envoywatch.cli.main import cli

    doc = (ROOT / "docs" / "cli.md").read_text()
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        assert f"`envoywatch {name}`" in doc


def test_every_analysis_has_a_docs_entry():
    import importlib
    import pkgutil

    import envoywatch.analysis as pkg
    from envoywatch.analysis import ANALYSES

    for mod in pkgutil.walk_packages(pkg.__path__, "envoywatch.analysis."):
        importlib.import_module(mod.name)
    text = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    missing = [name for name in ANALYSES if f"`{name}`" not in text]
    assert not missing, f"analyses without a docs entry (mention them in docs/analysis/*.md): {missing}"


def test_formats_doc_matches_registered_formats():
    from envoywatch.importers.formats_doc import formats_markdown

    doc = (ROOT / "docs" / "formats.md").read_text()
    assert doc.strip() == formats_markdown().strip(), "regenerate: python -m envoywatch.importers.formats_doc > docs/formats.md"
