"""envoywatch tone score / store / share: the propaganda-tone classifier (docs/analysis/tone.md)."""

from __future__ import annotations

import json
import sys

import click

from envoywatch.cli.common import open_store, print_table
from envoywatch.errors import EnvoywatchError

_CHUNK = 2000


class ToneInputError(EnvoywatchError):
    """A tone input file cannot be read."""


def _json_type(v) -> str:
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object",
            type(None): "null"}.get(type(v), type(v).__name__)


def _parse_line(raw: str, where: str, field: str):
    """The JSON object of one input line, or the one-line message saying why it is set aside."""
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        return None, f"{where}: not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, f"{where}: a JSON {_json_type(obj)}, not an object with a '{field}' field"
    if field not in obj:
        return None, f"{where}: no '{field}' field (fields: {', '.join(list(obj)[:8]) or 'none'})"
    if not isinstance(obj[field], str):
        return None, f"{where}: '{field}' is of JSON type {_json_type(obj[field])}, not a string"
    return obj, None


@click.group("tone")
def tone():
    """Propaganda / confrontational tone: score posts, keep scores in the store, share over time."""


@tone.command("score")
@click.argument("infile", metavar="IN.jsonl", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--out", "outfile", metavar="OUT.jsonl", type=click.Path(dir_okay=False, allow_dash=True),
              default="-", help="write here (default: standard output)")
@click.option("--text-field", default="text", show_default=True, help="the field holding the post text")
@click.option("--no-reasons", is_flag=True, help="do not add propaganda_reasons")
def score(infile, outfile, text_field, no_reasons):
    """Score one JSON object per line; write the same objects with propaganda (true/false),
    propaganda_score (0..1) and propaganda_reasons added. Bad lines are reported (file:line) and skipped;
    the exit status is 1 when any line was skipped."""
    from envoywatch.analysis.tone import default_model

    model = default_model()
    name = "<stdin>" if infile == "-" else infile
    try:
        src = sys.stdin if infile == "-" else open(infile, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ToneInputError(f"cannot read the input ({exc.strerror})", name, "check the path") from exc
    try:
        dst = sys.stdout if outfile == "-" else open(outfile, "w", encoding="utf-8")
    except OSError as exc:
        raise ToneInputError(f"cannot write the output ({exc.strerror})", outfile, "check the path") from exc
    good = bad = 0
    try:
        chunk: list[dict] = []

        def flush():
            results = model.score([o[text_field] for o in chunk], cues=0 if no_reasons else 3)
            for obj, res in zip(chunk, results):
                obj["propaganda"] = res.label
                obj["propaganda_score"] = round(res.score, 6)
                if not no_reasons:
                    obj["propaganda_reasons"] = res.reasons
                dst.write(json.dumps(obj, ensure_ascii=False) + "\n")
            chunk.clear()

        for lineno, raw in enumerate(src, 1):
            if not raw.strip():
                continue
            obj, err = _parse_line(raw, f"{name}:{lineno}", text_field)
            if err:
                bad += 1
                click.echo(f"error: {err} (line skipped)", err=True)
                continue
            chunk.append(obj)
            good += 1
            if len(chunk) >= _CHUNK:
                flush()
        if chunk:
            flush()
    finally:
        if src is not sys.stdin:
            src.close()
        if dst is not sys.stdout:
            dst.close()
    click.echo(f"scored {good} posts with tone model {model.version}; skipped {bad} bad lines", err=True)
    if bad:
        sys.exit(1)


@tone.command("store")
@click.option("--since", help="only posts created at or after this time (ISO 8601)")
@click.option("--batch", type=int, default=20000, show_default=True, help="posts scored per transaction")
@click.pass_context
def store_cmd(ctx, since, batch):
    """Score the store's posts not yet scored by the shipped model (kept in the tone_scores table)."""
    from envoywatch.analysis.tone.scores import score_store
    from envoywatch.util.timeparse import parse_time

    with open_store(ctx) as store:
        r = score_store(store, since=parse_time(since, "--since") if since else None, batch=batch,
                        progress=lambda n: click.echo(f"  {n} posts scored", err=True))
    click.echo(f"scored {r['scored']} new posts; {r['total_scored']} posts have scores of model {r['model_version']}")


@tone.command("share")
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--by", type=click.Choice(["account", "actor", "state", "category", "host_country", "platform",
                                         "language"]), help="one row per period and this group")
@click.option("--since", help="posts at or after this time (ISO 8601)")
@click.option("--until", help="posts before this time")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_context
def share(ctx, freq, by, since, until, fmt):
    """Share of propaganda posts per period and group (run `envoywatch tone store` first)."""
    from envoywatch.analysis.filters import Filters
    from envoywatch.analysis.tone.scores import ensure_table, tone_share

    with open_store(ctx) as store:
        ensure_table(store)
        expr = tone_share(store, Filters(start=since, end=until), freq=freq, by=by)
        print_table(expr.to_pyarrow(), fmt, title=f"propaganda share per {freq}")


commands = [tone]
