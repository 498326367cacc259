/* vrrpscope report: zoom and pan for the timeline charts, copy buttons. No network, no libraries.
   Each chart's <svg> carries data-epoch (absolute start), data-a/data-b (window, seconds relative to
   the epoch) and data-x0/data-x1 (plot pixels); each time-placed element carries its own time(s). */
(function () {
  "use strict";
  var STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  var CHAR_W = 6.4, MIN_TICK_PX = 88, MIN_SPAN = 0.02, TICK_EPS = 0.0005, MAX_AXIS_TICKS = 40;

  function pad(n, w) { var s = String(n); while (s.length < w) { s = "0" + s; } return s; }

  function clock(t, step) {
    var dec = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
    var scale = Math.pow(10, dec), units = Math.round(t * scale);
    var whole = Math.floor(units / scale), frac = units - whole * scale;
    var d = new Date(whole * 1000);
    var s = pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" + pad(d.getUTCSeconds(), 2);
    return dec ? s + "." + pad(frac, dec) : s;
  }

  function fmtSpan(d) {
    if (d < 10) { return d.toFixed(2) + " s"; }
    if (d < 100) { return d.toFixed(1) + " s"; }
    if (d < 3600) { return Math.floor(d / 60) + " min " + pad(Math.round(d % 60), 2) + " s"; }
    return Math.floor(d / 3600) + " h " + pad(Math.floor((d % 3600) / 60), 2) + " min";
  }

  function axisStep(span, width) {
    for (var i = 0; i < STEPS.length; i++) { if (span / STEPS[i] * MIN_TICK_PX <= width) { return STEPS[i]; } }
    return STEPS[STEPS.length - 1] * Math.ceil(span / STEPS[STEPS.length - 1] * MIN_TICK_PX / width);
  }

  function el(svg, name, attrs, text) {
    var e = document.createElementNS(svg.namespaceURI, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // Same algorithm as svg.place_labels: important labels first, never over another label or marker.
  function placeLabels(items, x0, x1) {
    var occupied = [];
    items.forEach(function (m) { if (m.g.dataset.shape === "1") { occupied.push([m.x - 6, m.x + 6]); } });
    items.slice().sort(function (p, q) {
      return (+p.g.dataset.prio - +q.g.dataset.prio) || (p.x - q.x);
    }).forEach(function (m) {
      var label = m.g.classList.contains("blabel") ? m.g : m.g.querySelector(".mlabel");
      if (!label) { return; }
      var off = +m.g.dataset.off, w = +m.g.dataset.len * CHAR_W, side = "";
      var options = [["r", m.x + off, m.x + off + w]];
      if (m.g.dataset.sides !== "r") { options.push(["l", m.x - off - w, m.x - off]); }
      if (w > 0 && !m.gone && m.x >= x0 - 2 && m.x <= x1) {
        for (var i = 0; i < options.length && !side; i++) {
          var o = options[i];
          if (o[1] < x0 - 2 || o[2] > x1 + 12) { continue; }
          if (occupied.some(function (r) { return o[1] < r[1] && r[0] < o[2]; })) { continue; }
          occupied.push([o[1] - 3, o[2] + 3]);
          side = o[0];
        }
      }
      label.classList.toggle("hidden", !side);
      if (label !== m.g) {
        label.classList.toggle("left", side === "l");
        label.setAttribute("x", side === "l" ? -off : off);
      }
    });
  }

  function layout(svg, a, b) {
    var x0 = +svg.dataset.x0, x1 = +svg.dataset.x1, epoch = +svg.dataset.epoch;
    var k = (x1 - x0) / (b - a);
    function X(t) { return Math.min(Math.max(x0 + (t - a) * k, x0 - 50), x1 + 50); }
    svg.dataset.a = a.toFixed(4);
    svg.dataset.b = b.toFixed(4);

    svg.querySelectorAll(".z-span").forEach(function (r) {
      var p = X(+r.dataset.a), q = X(+r.dataset.b);
      r.setAttribute("x", p.toFixed(2));
      r.setAttribute("width", Math.max(q - p, +r.dataset.minw || 1).toFixed(2));
    });
    svg.querySelectorAll(".z-in").forEach(function (g) {
      var p = Math.max(X(+g.dataset.a), x0), q = Math.min(X(+g.dataset.b), x1), shown = false;
      for (var i = 0; i < g.children.length; i++) {
        var t = g.children[i], fits = !shown && (+t.dataset.len) * CHAR_W + 8 <= q - p;
        t.setAttribute("x", (p + 4).toFixed(2));
        t.classList.toggle("hidden", !fits);
        shown = shown || fits;
      }
    });
    // point markers and band labels: place, then hide labels that would overlap, row by row
    var rows = {};
    svg.querySelectorAll(".z-pt").forEach(function (g) {
      var x = X(+g.dataset.a);
      var gone = false;
      if (g.dataset.clamp) { gone = X(+g.dataset.b) < x0; x = Math.max(x, x0); }
      g.setAttribute("transform", "translate(" + x.toFixed(2) + " " + g.dataset.y + ")");
      (rows[g.dataset.y] = rows[g.dataset.y] || []).push({ g: g, x: x, gone: gone });
    });
    Object.keys(rows).forEach(function (y) { placeLabels(rows[y], x0, x1); });
    svg.querySelectorAll(".z-ticks").forEach(function (p) {
      var y = p.dataset.y, h = p.dataset.h, d = [];
      p.dataset.ts.split(" ").forEach(function (s) {
        var t = +s / 1000;
        if (s !== "" && t >= a - TICK_EPS && t <= b + TICK_EPS) { d.push("M" + X(t).toFixed(1) + " " + y + "v" + h); }
      });
      p.setAttribute("d", d.length ? d.join("") : "M0 0");
    });
    var axis = svg.querySelector(".z-axis");
    if (axis) {
      var base = axis.querySelector(".axis"), y1 = +base.getAttribute("y1");
      var y0 = +svg.querySelector(".grid").getAttribute("y1");
      while (axis.lastChild !== base) { axis.removeChild(axis.lastChild); }
      var step = axisStep(b - a, x1 - x0);
      var first = Math.ceil((epoch + a) / step - 1e-9);
      for (var i = first; i * step <= epoch + b + 1e-9 && i - first < MAX_AXIS_TICKS; i++) {
        var t = i * step, x = X(t - epoch);
        axis.appendChild(el(svg, "line", { "class": "grid", x1: x.toFixed(2), x2: x.toFixed(2), y1: y0, y2: y1 + 4 }));
        axis.appendChild(el(svg, "text", { "class": "tick", x: x.toFixed(2), y: y1 + 17 }, clock(t, step)));
      }
    }
    var fig = svg.closest("figure");
    if (fig) {
      var text = clock(epoch + a, 0.001) + " → " + clock(epoch + b, 0.001) + " (" + fmtSpan(b - a) + ")";
      fig.querySelectorAll(".range, .static-range").forEach(function (r) { r.textContent = text; });
    }
  }

  function setWindow(svg, a, b) {
    var full = +svg.dataset.full;
    var span = Math.min(Math.max(b - a, MIN_SPAN), full);
    a = Math.min(Math.max(a, 0), full - span);
    layout(svg, a, a + span);
  }

  function zoomAround(svg, factor, center) {
    var a = +svg.dataset.a, b = +svg.dataset.b;
    if (center === undefined) { center = (a + b) / 2; }
    setWindow(svg, center - (center - a) * factor, center + (b - center) * factor);
  }

  function timeAt(svg, clientX) {
    var box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
    var px = (clientX - box.left) * vb.width / box.width;
    var x0 = +svg.dataset.x0, x1 = +svg.dataset.x1, a = +svg.dataset.a, b = +svg.dataset.b;
    return a + (Math.min(Math.max(px, x0), x1) - x0) * (b - a) / (x1 - x0);
  }

  function init(fig) {
    var svg = fig.querySelector("svg.timeline");
    if (!svg) { return; }
    svg.dataset.full = svg.dataset.b;
    var bar = fig.querySelector(".zoombar");
    if (bar) {
      bar.addEventListener("click", function (ev) {
        var btn = ev.target.closest("button");
        if (!btn) { return; }
        if (btn.dataset.zoom === "in") { zoomAround(svg, 0.5); }
        else if (btn.dataset.zoom === "out") { zoomAround(svg, 2); }
        else if (btn.dataset.zoom === "reset") { setWindow(svg, 0, +svg.dataset.full); }
        else if (btn.dataset.win) {
          var w = btn.dataset.win.split(" ");
          setWindow(svg, +w[0], +w[1]);
        }
      });
    }
    svg.addEventListener("wheel", function (ev) {
      if (!ev.ctrlKey && !ev.metaKey) { return; }
      ev.preventDefault();
      zoomAround(svg, ev.deltaY > 0 ? 1.25 : 0.8, timeAt(svg, ev.clientX));
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (ev) {
      drag = { x: ev.clientX, a: +svg.dataset.a, b: +svg.dataset.b };
      svg.classList.add("dragging");
      if (svg.setPointerCapture) { svg.setPointerCapture(ev.pointerId); }
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!drag) { return; }
      var box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      var px = (ev.clientX - drag.x) * vb.width / box.width;
      var dt = px * (drag.b - drag.a) / (+svg.dataset.x1 - +svg.dataset.x0);
      setWindow(svg, drag.a - dt, drag.b - dt);
    });
    function end() { drag = null; svg.classList.remove("dragging"); }
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    svg.dataset.zoomable = "1";
  }

  document.querySelectorAll("figure.chart").forEach(init);
  document.querySelectorAll("button.copy").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var text = btn.dataset.copy, done = function () { btn.textContent = "copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { selectCode(btn); });
      } else { selectCode(btn); }
    });
  });
  function selectCode(btn) {
    var code = btn.parentNode.querySelector("code");
    var range = document.createRange();
    range.selectNodeContents(code);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  document.documentElement.setAttribute("data-js", "ready");
})();
