/* envoywatch: the interactive coordination network of /coordination.
 *
 * Offline and dependency-free: reads the nodes and edges the server embedded in
 * <script type="application/json" id="network-data"> (the same data as /api/coordination/network),
 * lays them out with a small force simulation and draws them as SVG in #network.
 * Nodes are coloured by group and sized by their number of connections; drag a node, drag the
 * background to pan, scroll to zoom; hovering or clicking a node shows its details in #net-info.
 *
 * Handles, names and signals are hostile input: every text goes through textContent or an
 * attribute set with setAttribute, never through innerHTML; the only link made is a relative
 * /accounts/... path with encodeURIComponent'ed parts. No eval, no inline script (CSP script-src 'self').
 */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var COLORS = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#b7791f", "#4a5568",
                "#d53f8c", "#2c7a7b"];

  function el(name, attrs) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, String(attrs[k])); } }
    return e;
  }

  function html(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  // a small deterministic random generator: the same data gives the same picture
  function rng(seed) {
    var s = seed >>> 0 || 1;
    return function () { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  }

  function start() {
    var box = document.getElementById("network");
    var src = document.getElementById("network-data");
    var info = document.getElementById("net-info");
    if (!box || !src) { return; }
    var data;
    try { data = JSON.parse(src.textContent || "{}"); } catch (err) { box.textContent = "network data unreadable"; return; }
    var nodes = (data.nodes || []).map(function (n) { return Object.assign({}, n); });
    var byId = {};
    nodes.forEach(function (n, i) { n.i = i; byId[n.id] = n; });
    var edges = (data.edges || []).filter(function (e) { return byId[e.source] && byId[e.target]; })
      .map(function (e) { return {s: byId[e.source], t: byId[e.target], w: e.weight || 1}; });
    if (!nodes.length) {
      box.appendChild(html("p", "no coordinated group at these settings", "muted"));
      box.setAttribute("data-ready", "1");
      return;
    }

    // --- layout: groups start around a circle, then springs (edges), repulsion and gravity -------------------
    var rand = rng(nodes.length * 7919 + edges.length);
    var groups = {};
    nodes.forEach(function (n) { (groups[n.group] = groups[n.group] || []).push(n); });
    var gkeys = Object.keys(groups);
    var R = 60 + 25 * Math.sqrt(nodes.length);
    gkeys.forEach(function (g, k) {
      var a = 2 * Math.PI * k / gkeys.length;
      var cx = gkeys.length > 1 ? R * Math.cos(a) : 0, cy = gkeys.length > 1 ? R * Math.sin(a) : 0;
      groups[g].forEach(function (n) {
        n.gx = cx; n.gy = cy;
        n.x = cx + (rand() - 0.5) * 60; n.y = cy + (rand() - 0.5) * 60; n.vx = 0; n.vy = 0;
      });
    });
    var maxDeg = 1;
    nodes.forEach(function (n) { maxDeg = Math.max(maxDeg, n.degree || 0); });
    nodes.forEach(function (n) { n.r = 4 + 10 * Math.sqrt((n.degree || 0) / maxDeg); });

    var alpha = 1, ticks = 0, maxTicks = nodes.length > 400 ? 160 : 300;
    function tick() {
      var i, j, a, b, dx, dy, d2, d, f;
      var rep = 900;
      for (i = 0; i < nodes.length; i++) {
        a = nodes[i];
        for (j = i + 1; j < nodes.length; j++) {
          b = nodes[j];
          dx = a.x - b.x; dy = a.y - b.y; d2 = dx * dx + dy * dy + 0.01;
          if (d2 > 90000) { continue; }
          f = rep * alpha / d2;
          a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
        }
      }
      edges.forEach(function (e) {
        dx = e.t.x - e.s.x; dy = e.t.y - e.s.y; d = Math.sqrt(dx * dx + dy * dy) + 0.01;
        f = (d - 45) * 0.05 * alpha / d;
        e.s.vx += dx * f; e.s.vy += dy * f; e.t.vx -= dx * f; e.t.vy -= dy * f;
      });
      nodes.forEach(function (n) {
        if (n.fixed) { n.vx = 0; n.vy = 0; return; }
        n.vx += (n.gx - n.x) * 0.01 * alpha; n.vy += (n.gy - n.y) * 0.01 * alpha;
        n.vx *= 0.6; n.vy *= 0.6;
        n.x += Math.max(-30, Math.min(30, n.vx)); n.y += Math.max(-30, Math.min(30, n.vy));
      });
      alpha = Math.max(0.02, alpha * 0.985);
    }

    // --- drawing -------------------------------------------------------------------------------------------------
    var svg = el("svg", {role: "img", "aria-label": "coordination network: " + nodes.length + " accounts"});
    var view = el("g", {"class": "view"});
    var gEdges = el("g", {"class": "edges"}), gNodes = el("g", {"class": "nodes"}), gLabels = el("g", {"class": "labels"});
    view.appendChild(gEdges); view.appendChild(gNodes); view.appendChild(gLabels);
    svg.appendChild(view);
    box.appendChild(svg);
    var maxW = 1;
    edges.forEach(function (e) { maxW = Math.max(maxW, e.w); });
    edges.forEach(function (e) {
      e.line = el("line", {"stroke-width": (0.6 + 2.4 * e.w / maxW).toFixed(2)});
      gEdges.appendChild(e.line);
    });
    var showLabels = nodes.length <= 60;
    nodes.forEach(function (n) {
      var c = el("circle", {"class": "node" + (n.flagged ? " flagged" : ""), r: n.r.toFixed(1),
                            fill: COLORS[((n.group || 1) - 1) % COLORS.length], tabindex: "0", "data-id": n.id});
      var title = el("title", {});
      title.textContent = (n.handle ? "@" + n.handle : n.account_id) + " · group " + n.group;
      c.appendChild(title);
      n.c = c;
      gNodes.appendChild(c);
      if (showLabels) {
        n.label = el("text", {"class": "label"});
        n.label.textContent = n.handle ? "@" + n.handle : String(n.account_id);
        gLabels.appendChild(n.label);
      }
    });

    function draw() {
      edges.forEach(function (e) {
        e.line.setAttribute("x1", e.s.x.toFixed(1)); e.line.setAttribute("y1", e.s.y.toFixed(1));
        e.line.setAttribute("x2", e.t.x.toFixed(1)); e.line.setAttribute("y2", e.t.y.toFixed(1));
      });
      nodes.forEach(function (n) {
        n.c.setAttribute("cx", n.x.toFixed(1)); n.c.setAttribute("cy", n.y.toFixed(1));
        if (n.label) { n.label.setAttribute("x", (n.x + n.r + 2).toFixed(1)); n.label.setAttribute("y", (n.y + 3).toFixed(1)); }
      });
    }

    // --- zoom and pan: a transform on the view group ---------------------------------------------------------------
    var k = 1, tx = 0, ty = 0;
    function apply() { view.setAttribute("transform", "translate(" + tx.toFixed(1) + "," + ty.toFixed(1) + ") scale(" + k.toFixed(4) + ")"); }
    function fit() {
      var w = box.clientWidth || 800, h = box.clientHeight || 560;
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      nodes.forEach(function (n) { x0 = Math.min(x0, n.x - n.r); y0 = Math.min(y0, n.y - n.r); x1 = Math.max(x1, n.x + n.r); y1 = Math.max(y1, n.y + n.r); });
      var pad = 30, padRight = showLabels ? 130 : 30;      // room for the handles on the right
      k = Math.min(2, Math.min((w - pad - padRight) / Math.max(1, x1 - x0), (h - 2 * pad) / Math.max(1, y1 - y0)));
      tx = (w - padRight + pad) / 2 - k * (x0 + x1) / 2; ty = h / 2 - k * (y0 + y1) / 2;
      apply();
    }
    function local(ev) {            // pointer position in layout coordinates
      var r = svg.getBoundingClientRect();
      return {x: (ev.clientX - r.left - tx) / k, y: (ev.clientY - r.top - ty) / k};
    }
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = svg.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      var nk = Math.max(0.05, Math.min(20, k * (ev.deltaY < 0 ? 1.15 : 1 / 1.15)));
      tx = px - (px - tx) * nk / k; ty = py - (py - ty) * nk / k; k = nk;
      apply();
    }, {passive: false});

    var drag = null;
    svg.addEventListener("pointerdown", function (ev) {
      var id = ev.target && ev.target.getAttribute && ev.target.getAttribute("data-id");
      var n = id !== null && id !== undefined ? byId[id] : null;
      drag = n ? {node: n, moved: false} : {pan: true, x: ev.clientX, y: ev.clientY, tx: tx, ty: ty};
      if (n) { n.fixed = true; }
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!drag) { return; }
      if (drag.node) {
        var p = local(ev);
        drag.node.x = p.x; drag.node.y = p.y; drag.moved = true;
        draw();
      } else {
        tx = drag.tx + ev.clientX - drag.x; ty = drag.ty + ev.clientY - drag.y;
        apply();
      }
    });
    function endDrag(ev) {
      if (drag && drag.node) {
        if (!drag.moved) { select(drag.node); }
        drag.node.fixed = drag.moved;        // a dragged node stays where it was put
      }
      drag = null;
      if (ev && svg.hasPointerCapture && svg.hasPointerCapture(ev.pointerId)) { svg.releasePointerCapture(ev.pointerId); }
    }
    svg.addEventListener("pointerup", endDrag);
    svg.addEventListener("pointercancel", endDrag);
    nodes.forEach(function (n) {
      n.c.addEventListener("mouseenter", function () { if (!selected) { show(n); } });
      n.c.addEventListener("focus", function () { show(n); });
      n.c.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(n); } });
    });

    // --- the details panel -------------------------------------------------------------------------------------------
    var selected = null;
    function select(n) {
      if (selected) { selected.c.classList.remove("selected"); }
      selected = n;
      n.c.classList.add("selected");
      show(n);
    }
    function show(n) {
      if (!info) { return; }
      info.replaceChildren();
      info.appendChild(html("p", n.handle ? "@" + n.handle : String(n.account_id), "handle"));
      var dl = document.createElement("dl");
      function row(label, value) {
        if (value === null || value === undefined || value === "") { return; }
        dl.appendChild(html("dt", label));
        var dd = document.createElement("dd");
        if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
        dl.appendChild(dd);
      }
      row("group", n.group);
      row("score", n.score === null || n.score === undefined ? "" : n.score + (n.flagged ? " (flagged)" : ""));
      var sig = document.createElement("span");
      String(n.signals || "").split(" ").filter(Boolean).forEach(function (s) { sig.appendChild(html("span", s.replace(/_/g, " "), "tag")); });
      row("signals", sig.childNodes.length ? sig : "none fired");
      row("registry", [n.state, n.category].filter(Boolean).join(" ").replace(/_/g, " "));
      row("links", n.degree);
      row("account", n.account_id);
      if (n.platform && n.account_id !== null && n.account_id !== undefined) {
        var a = html("a", "account page");
        a.setAttribute("href", "/accounts/" + encodeURIComponent(n.platform) + "/" + encodeURIComponent(String(n.account_id)));
        row("", a);
      }
      info.appendChild(dl);
      info.setAttribute("data-id", n.id);
    }

    // --- run: animate the settling layout, then stop --------------------------------------------------------------
    function frame() {
      for (var s = 0; s < 3 && ticks < maxTicks; s++, ticks++) { tick(); }
      draw();
      if (ticks < maxTicks) { window.requestAnimationFrame(frame); }
      else { fit(); box.setAttribute("data-ready", "1"); }
    }
    for (var w = 0; w < 40; w++, ticks++) { tick(); }   // the first steps off screen: no explosion to watch
    draw(); fit();
    box.setAttribute("data-drawn", String(nodes.length));
    window.requestAnimationFrame(frame);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
