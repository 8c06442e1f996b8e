"""Graph exports for Gephi and network tools: GEXF 1.3 and GraphML, written as plain XML.

Both take the same inputs: edges (dicts with source, target, weight and optional first_time,
last_time, shared_items) and node attributes per account id (handle, category, group, ...). Attribute
values are escaped (post text and handles are hostile input); numbers stay numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable
from xml.sax.saxutils import escape, quoteattr

GRAPH_FORMATS = ("gexf", "graphml")

# node attributes written when present: name -> type (GraphML / GEXF type names agree for these)
NODE_ATTRS = {"handle": "string", "category": "string", "state": "string", "group": "integer",
              "score": "double", "flagged": "boolean", "signals_fired": "string"}
EDGE_ATTRS = {"shared_items": "integer", "first_time": "double", "last_time": "double"}


def _val(v) -> str:
    if isinstance(v, bool):  # XML Schema booleans (GEXF, GraphML) are lower case
        return "true" if v else "false"
    return "" if v is None else str(v)


def _node_ids(edges: list[dict], nodes: dict[str, dict]) -> list[str]:
    ids = dict.fromkeys(nodes)
    for e in edges:
        ids.setdefault(e["source"])
        ids.setdefault(e["target"])
    return list(ids)


def write_gexf(path: str | Path, edges: Iterable[dict], nodes: dict[str, dict] | None = None,
               directed: bool = False, description: str = "envoywatch coordination network") -> int:
    """Write GEXF 1.3 (Gephi). Returns the number of edges written."""
    edges, nodes = list(edges), nodes or {}
    ids = _node_ids(edges, nodes)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">',
           f'  <meta><creator>envoywatch</creator><description>{escape(description)}</description></meta>',
           f'  <graph defaultedgetype="{"directed" if directed else "undirected"}" mode="static">',
           '    <attributes class="node">']
    for i, (name, typ) in enumerate(NODE_ATTRS.items()):
        out.append(f'      <attribute id="n{i}" title="{name}" type="{typ}"/>')
    out.append('    </attributes>')
    out.append('    <attributes class="edge">')
    for i, (name, typ) in enumerate(EDGE_ATTRS.items()):
        out.append(f'      <attribute id="e{i}" title="{name}" type="{typ}"/>')
    out.append('    </attributes>')
    out.append('    <nodes>')
    for nid in ids:
        attrs = nodes.get(nid, {})
        label = attrs.get("handle") or nid
        vals = [f'<attvalue for="n{i}" value={quoteattr(_val(attrs[k]))}/>'
                for i, k in enumerate(NODE_ATTRS) if attrs.get(k) is not None]
        out.append(f'      <node id={quoteattr(str(nid))} label={quoteattr(str(label))}>'
                   f'<attvalues>{"".join(vals)}</attvalues></node>')
    out.append('    </nodes>')
    out.append('    <edges>')
    n = 0
    for n, e in enumerate(edges, start=1):
        vals = [f'<attvalue for="e{i}" value={quoteattr(_val(e[k]))}/>'
                for i, k in enumerate(EDGE_ATTRS) if e.get(k) is not None]
        out.append(f'      <edge id="{n - 1}" source={quoteattr(str(e["source"]))} target={quoteattr(str(e["target"]))} '
                   f'weight="{float(e["weight"])}"><attvalues>{"".join(vals)}</attvalues></edge>')
    out.append('    </edges>')
    out.append('  </graph>')
    out.append('</gexf>')
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")
    return n


def write_graphml(path: str | Path, edges: Iterable[dict], nodes: dict[str, dict] | None = None,
                  directed: bool = False) -> int:
    """Write GraphML (yEd, igraph, networkx, Gephi). Returns the number of edges written."""
    edges, nodes = list(edges), nodes or {}
    ids = _node_ids(edges, nodes)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
           'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">']
    for name, typ in NODE_ATTRS.items():
        gtyp = "int" if typ == "integer" else typ
        out.append(f'  <key id="{name}" for="node" attr.name="{name}" attr.type="{gtyp}"/>')
    out.append('  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>')
    for name, typ in EDGE_ATTRS.items():
        gtyp = "int" if typ == "integer" else typ
        out.append(f'  <key id="{name}" for="edge" attr.name="{name}" attr.type="{gtyp}"/>')
    out.append(f'  <graph id="G" edgedefault="{"directed" if directed else "undirected"}">')
    for nid in ids:
        attrs = nodes.get(nid, {})
        data = "".join(f'<data key="{k}">{escape(_val(attrs[k]))}</data>' for k in NODE_ATTRS if attrs.get(k) is not None)
        out.append(f'    <node id={quoteattr(str(nid))}>{data}</node>')
    n = 0
    for n, e in enumerate(edges, start=1):
        data = f'<data key="weight">{float(e["weight"])}</data>' + "".join(
            f'<data key="{k}">{escape(_val(e[k]))}</data>' for k in EDGE_ATTRS if e.get(k) is not None)
        out.append(f'    <edge source={quoteattr(str(e["source"]))} target={quoteattr(str(e["target"]))}>{data}</edge>')
    out.append('  </graph>')
    out.append('</graphml>')
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")
    return n


def write_graph(path: str | Path, edges: Iterable[dict], nodes: dict[str, dict] | None = None,
                directed: bool = False, fmt: str | None = None) -> int:
    """Write GEXF or GraphML, chosen by `fmt` or the file suffix (.gexf, .graphml)."""
    from envoywatch.errors import EnvoywatchError

    fmt = fmt or Path(path).suffix.lstrip(".").lower()
    if fmt == "gexf":
        return write_gexf(path, edges, nodes, directed)
    if fmt == "graphml":
        return write_graphml(path, edges, nodes, directed)
    raise EnvoywatchError(f"unknown graph format {fmt!r}", str(path), "name the file .gexf or .graphml")
