"""docs/formats.md from the registered formats (python -m envoywatch.importers.formats_doc > docs/formats.md)."""

from __future__ import annotations


def formats_markdown() -> str:
    from envoywatch.importers.base import load_formats

    out = ["# Archive formats", "",
           "Generated from the registered formats by `python -m envoywatch.importers.formats_doc > docs/formats.md`; "
           "a test keeps it current. `envoywatch import PATH` detects the format and prints which it chose; "
           "`--format NAME` forces one. Directories are read recursively; `.gz` files are read as they are.", "",
           "| format | platform | what it reads |", "| --- | --- | --- |"]
    for name, spec in sorted(load_formats().items()):
        desc = spec.description.replace("|", "\\|")
        out.append(f"| `{name}` | {spec.platform or '(from the data)'} | {desc} |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(formats_markdown())
