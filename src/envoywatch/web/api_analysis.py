"""REST endpoints of the analysis pages: coordination, narratives, sources, tone (JSON by default, CSV with
format=csv; the same rows as the /coordination and /narratives pages and their download links).

Errors: a cache table that a CLI command fills is absent -> 409 with the command to run; a bad parameter
(an EnvoywatchError of the analysis) -> 400 with its one-line message.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from envoywatch.analysis.coordination.network import NETWORK_TYPES
from envoywatch.errors import EnvoywatchError
from envoywatch.web.api import DOWNLOAD, FORMAT, Fmt, respond
from envoywatch.web.app import get_filters
from envoywatch.web.data import Filters, filters_json
from envoywatch.web.data_analysis import GROUP_BY, LINE_BY, MATRIX_BY, CacheMissing, CoordParams, analysis_data
from envoywatch.web.render import csv_response, json_response

router = APIRouter(prefix="/api", tags=["analyses"])

NetType = Literal[tuple(NETWORK_TYPES)]  # type: ignore[valid-type]
Freq = Literal["day", "week", "month"]
FreqAll = Literal["day", "week", "month", "all"]
By = Literal[GROUP_BY]  # type: ignore[valid-type]


def get_coord_params(
    type: NetType = Query("co-repost", description="network type: " + ", ".join(NETWORK_TYPES)),  # noqa: A002
    window: float = Query(60.0, ge=0, le=30 * 86400, description="seconds: two shares match when |t1 - t2| <= window"),
    min_weight: int = Query(5, ge=1, le=100000, description="an edge in a group needs this weight (distinct shared items)"),
    min_overlap: float = Query(0.25, ge=0, le=1, description="and weight / min(items of the two accounts) at least this"),
    min_size: int = Query(3, ge=2, le=100000, description="smallest group reported"),
    method: Literal["components", "leiden"] = Query("components", description="components or Leiden communities"),
) -> CoordParams:
    return CoordParams(type=type, window=window, min_weight=min_weight, min_overlap=min_overlap, min_size=min_size,
                       method=method)


def guarded(fn):
    """Run fn(); the analyses' own errors become 409 (a cache to fill) or 400 (a bad parameter)."""
    try:
        return fn()
    except CacheMissing as exc:
        raise HTTPException(409, exc.one_line()) from None
    except EnvoywatchError as exc:
        raise HTTPException(400, exc.one_line()) from None


def _a(request: Request):
    return analysis_data(request.app)


# --- coordination ------------------------------------------------------------------------------------------

@router.get("/coordination/groups", summary="Coordinated groups: size, density, shared items, period, amplified accounts")
def coordination_groups(request: Request, f: Filters = Depends(get_filters), cp: CoordParams = Depends(get_coord_params),
                        format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).groups(f, cp)), f, format, download)


@router.get("/coordination/members", summary="Members of the groups with their inauthenticity score and the signals that fired")
def coordination_members(request: Request, f: Filters = Depends(get_filters), cp: CoordParams = Depends(get_coord_params),
                         format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).members(f, cp)), f, format, download)


@router.get("/coordination/network", summary="The groups' thresholded network: nodes (with attributes) and edges")
def coordination_network(request: Request, f: Filters = Depends(get_filters), cp: CoordParams = Depends(get_coord_params),
                         format: Fmt = FORMAT, download: bool = DOWNLOAD):
    net = guarded(lambda: _a(request).network(f, cp))
    if format == "csv":      # the edge list; the JSON also has the nodes
        return csv_response("coordination_network", net["columns"], net["rows"])
    return json_response({**net, "filters": filters_json(f)}, "coordination_network" if download else None)


@router.get("/coordination/amplification",
            summary="Amplification share: per registered state account, the share of its amplifications from flagged or coordinated accounts")
def coordination_amplification(request: Request, f: Filters = Depends(get_filters),
                               cp: CoordParams = Depends(get_coord_params), freq: Freq = Query("month"),
                               kind: Literal["all", "repost", "quote", "reply"] = Query("all"),
                               format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).amplification(f, cp, freq, kind)), f, format, download)


# --- narratives -----------------------------------------------------------------------------------------------

@router.get("/narratives/share", summary="Share of posts per narrative, period and group (narratives.share)")
def narratives_share(request: Request, f: Filters = Depends(get_filters), freq: Freq = Query("month"),
                     by: By | None = Query(None), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).narrative_share(f, freq, by)), f, format, download)


@router.get("/narratives/shifts", summary="Shifts of a narrative's share (onsets; all=true: every tested cell)")
def narratives_shifts(request: Request, f: Filters = Depends(get_filters), freq: Freq = Query("week"),
                      by: By | None = Query(None), all: bool = Query(False, description="every tested cell"),  # noqa: A002
                      format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).narrative_shifts(f, freq, by, all)), f, format, download)


@router.get("/narratives/lines", summary="Uniform line vs tailored content: share of own posts that are a shared line")
def narratives_lines(request: Request, f: Filters = Depends(get_filters),
                     by: Literal[LINE_BY] = Query("account"),  # type: ignore[valid-type]
                     format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).line_share(f, by)), f, format, download)


@router.get("/narratives/shared-lines", summary="The shared lines: near-identical messages of several official accounts")
def narratives_shared_lines(request: Request, f: Filters = Depends(get_filters), n: int = Query(50, ge=1, le=5000),
                            format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).shared_lines(f, n)), f, format, download)


# --- sources and tone -------------------------------------------------------------------------------------------

@router.get("/sources/matrix", summary="Cross-state amplification matrix over time (sources.matrix)")
def sources_matrix(request: Request, f: Filters = Depends(get_filters), freq: FreqAll = Query("month"),
                   by: Literal[MATRIX_BY] = Query("state"),  # type: ignore[valid-type]
                   source_type: Literal["domain", "account"] | None = Query(None),
                   format: Fmt = FORMAT, download: bool = DOWNLOAD):
    fq = None if freq == "all" else freq
    return respond(guarded(lambda: _a(request).matrix(f, fq, by, source_type)), f, format, download)


@router.get("/sources/top", summary="Top amplified sources per account and period (sources.top)")
def sources_top(request: Request, f: Filters = Depends(get_filters), freq: FreqAll = Query("all"),
                n: int = Query(5, ge=1, le=100), source_type: Literal["domain", "account"] | None = Query(None),
                classified_only: bool = Query(False, description="only sources the registry classifies"),
                format: Fmt = FORMAT, download: bool = DOWNLOAD):
    fq = None if freq == "all" else freq
    return respond(guarded(lambda: _a(request).top_sources(f, fq, n, source_type, classified_only)), f, format, download)


@router.get("/tone/share", summary="Share of propagandistic posts per period and group (tone.share)")
def tone_share(request: Request, f: Filters = Depends(get_filters), freq: Freq = Query("month"),
               by: By | None = Query(None), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(guarded(lambda: _a(request).tone_share(f, freq, by)), f, format, download)
