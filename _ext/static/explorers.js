/*
 * In-page explorers for the book "When do RNNs extrapolate?".
 *
 * Written for this book; MIT licence (see LICENSE). No dependencies, no network: every explorer
 * is a <div class="rnb-explorer"> whose first child is a <script type="application/json"> with
 * its kind, its controls and (for explorers over trained students) the precomputed data that
 * rnnbias wrote at build time. This file builds the controls and draws SVG figures; moving a
 * control recomputes the figure at once (closed forms) or switches to the precomputed run.
 *
 * The computed state of every explorer (its parameters, the plotted series and the readouts)
 * is kept on the element as `element.rnbState`, so that the browser test can compare it with
 * rnnbias.
 */
(function () {
  "use strict";

  // the book's palette (rnnbias.plotting.COLORS): readable on light and dark backgrounds
  var COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];
  var SVG_NS = "http://www.w3.org/2000/svg";

  // ---- numbers --------------------------------------------------------------------------

  var SUPERSCRIPT = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
    "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻" };

  /** 10 to an integer power, written with superscripts: 10⁻¹². */
  function power(e) {
    return "10" + String(e).split("").map(function (ch) { return SUPERSCRIPT[ch]; }).join("");
  }

  /** A number as rnnbias.format_number writes it: `digits` significant digits, plain
   *  between 0.001 and 100000, else with a power of ten (4.2 × 10⁻⁷, 10⁻¹⁹). */
  function fmt(x, digits) {
    digits = digits || 4;
    if (!isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
    var v = parseFloat(x.toPrecision(digits));
    if (v === 0) return "0";
    var sign = v < 0 ? "−" : "", a = Math.abs(v);
    if (a >= 1e-3 && a < 1e5) return sign + String(a);
    var parts = a.toExponential(digits - 1).split("e");
    var mantissa = parts[0].replace(/\.?0+$/, "");
    var p = power(parseInt(parts[1], 10));
    return sign + (mantissa === "1" ? p : mantissa + " × " + p);
  }

  /** About `count` round tick values covering [lo, hi]. */
  function ticks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
    var err = ((hi - lo) / count) / step;
    if (err >= 7.5) step *= 10;
    else if (err >= 3.5) step *= 5;
    else if (err >= 1.5) step *= 2;
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return out;
  }

  /** A finite number (null, which JSON writes for a missing value, is not). */
  function finite(v) { return typeof v === "number" && isFinite(v); }

  function range(n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push(i);
    return out;
  }

  // ---- drawing --------------------------------------------------------------------------

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG_NS, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  /** Split "E_{5,40} = 7" into [["E", ""], ["5,40", "sub"], [" = 7", ""]] (also ^ for sup). */
  function segments(content) {
    // a single-character index only when a letter or digit does not follow (not in loss_hessian)
    var out = [], re = /([_^])(\{([^}]*)\}|([A-Za-z0-9])(?![A-Za-z0-9]))/g, last = 0, m;
    while ((m = re.exec(content)) !== null) {
      if (m.index > last) out.push([content.slice(last, m.index), ""]);
      out.push([m[3] !== undefined ? m[3] : m[4], m[1] === "_" ? "sub" : "sup"]);
      last = re.lastIndex;
    }
    if (last < content.length) out.push([content.slice(last), ""]);
    return out;
  }

  function text(parent, x, y, content, attrs) {
    var t = el("text", Object.assign({ x: x, y: y, fill: "currentColor" }, attrs || {}), parent);
    segments(String(content)).forEach(function (seg) {
      var span = el("tspan", {}, t);
      if (seg[1]) {
        span.setAttribute("font-size", "75%");
        span.setAttribute("dy", seg[1] === "sub" ? "0.3em" : "-0.45em");
      }
      span.textContent = seg[0];
      if (seg[1]) {  // back to the baseline for what follows
        var back = el("tspan", { dy: seg[1] === "sub" ? "-0.3em" : "0.45em" }, t);
        back.textContent = "\u200b";
      }
    });
    return t;
  }

  /** The same markup as HTML (for the readouts). */
  function richHTML(content) {
    return segments(String(content)).map(function (seg) {
      var safe = seg[0].replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      return seg[1] ? "<" + seg[1] + ">" + safe + "</" + seg[1] + ">" : safe;
    }).join("");
  }

  /**
   * Draw one panel into an SVG element.
   * panel: {title, xlabel, ylabel, ylog, xlim, ylim, equal, circle, vlines: [{x, label}],
   *         series: [{x, y, label, kind: "line"|"steps"|"points"|"stem", color, dash}]}
   */
  function drawPanel(svg, panel, width, height, id, axes) {
    panel.series.forEach(function (s) {  // "x": "T" names a shared array of data.axes
      if (typeof s.x === "string") s.x = (axes || {})[s.x];
      if (typeof s.y === "string") s.y = (axes || {})[s.y];
    });
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    var labelled = panel.series.filter(function (s) { return s.label; });
    var m = { left: 62, right: 20, top: labelled.length ? 46 : 28, bottom: 44 };
    var W = width - m.left - m.right, H = height - m.top - m.bottom;
    var ylog = !!panel.ylog;
    var tr = function (v) { return ylog ? Math.log10(v) : v; };
    var xs = [], ys = [];
    panel.series.forEach(function (s) {
      s.x.forEach(function (v, i) {
        var y = s.y[i];
        if (finite(v) && finite(y) && (!ylog || y > 0)) { xs.push(v); ys.push(tr(y)); }
      });
    });
    var xlim = panel.xlim || [Math.min.apply(null, xs), Math.max.apply(null, xs)];
    if (!panel.xlim) {  // a little room at both ends, so that no point sits on the frame
      var xpad = 0.02 * ((xlim[1] - xlim[0]) || 1);
      xlim = [xlim[0] - xpad, xlim[1] + xpad];
    }
    var ylim = panel.ylim ? [tr(panel.ylim[0]), tr(panel.ylim[1])]
      : [Math.min.apply(null, ys.concat([ylog ? ys[0] : 0])), Math.max.apply(null, ys.concat([ylog ? ys[0] : 0]))];
    if (panel.yfloor && ylog) ylim[0] = Math.max(ylim[0], Math.log10(panel.yfloor));
    if (!(ylim[1] > ylim[0])) ylim = [ylim[0] - 1, ylim[0] + 1];
    if (!panel.ylim) {
      var pad = 0.06 * (ylim[1] - ylim[0]);
      ylim = [ylim[0] - pad, ylim[1] + pad];
    }
    if (ylog && ylim[1] - ylim[0] < 2) {  // at least two decades, so that powers of ten label it
      var mid = (ylim[0] + ylim[1]) / 2;
      ylim = [mid - 1, mid + 1];
    }
    if (panel.equal) {  // same scale on both axes (the complex plane)
      var half = Math.max(xlim[1] - xlim[0], ylim[1] - ylim[0]) / 2;
      W = H = Math.min(W, H);
      var cx = (xlim[0] + xlim[1]) / 2, cy = (ylim[0] + ylim[1]) / 2;
      xlim = [cx - half, cx + half];
      ylim = [cy - half, cy + half];
    }
    var X = function (v) { return m.left + (v - xlim[0]) / (xlim[1] - xlim[0]) * W; };
    var Y = function (v) { return m.top + (1 - (tr(v) - ylim[0]) / (ylim[1] - ylim[0])) * H; };
    var Yt = function (t) { return m.top + (1 - (t - ylim[0]) / (ylim[1] - ylim[0])) * H; };
    var clip = id + "-clip";
    el("rect", { x: m.left, y: m.top, width: W, height: H }, el("clipPath", { id: clip }, svg));
    // grid and ticks
    var g = el("g", { class: "rnb-axes", "font-size": 12 }, svg);
    ticks(xlim[0], xlim[1], 6).forEach(function (t) {
      el("line", { x1: X(t), x2: X(t), y1: m.top, y2: m.top + H, class: "rnb-grid" }, g);
      text(g, X(t), m.top + H + 16, fmt(t, 3), { "text-anchor": "middle" });
    });
    var yt = ylog
      ? range(Math.floor(ylim[1]) - Math.ceil(ylim[0]) + 1).map(function (i) { return Math.ceil(ylim[0]) + i; })
      : ticks(ylim[0], ylim[1], 5);
    if (ylog && yt.length > 7) {
      var every = Math.ceil(yt.length / 7);
      yt = yt.filter(function (t) { return t % every === 0; });
    }
    yt.forEach(function (t) {
      el("line", { x1: m.left, x2: m.left + W, y1: Yt(t), y2: Yt(t), class: "rnb-grid" }, g);
      text(g, m.left - 6, Yt(t) + 4, ylog ? power(t) : fmt(t, 3), { "text-anchor": "end" });
    });
    el("rect", { x: m.left, y: m.top, width: W, height: H, class: "rnb-frame" }, g);
    text(g, m.left + W / 2, height - 8, panel.xlabel || "", { "text-anchor": "middle" });
    text(g, 14, m.top + H / 2, panel.ylabel || "",
      { "text-anchor": "middle", transform: "rotate(-90 14 " + (m.top + H / 2) + ")" });
    text(g, m.left + W / 2, 16, panel.title || "", { "text-anchor": "middle", "font-weight": "bold" });
    var plot = el("g", { "clip-path": "url(#" + clip + ")" }, svg);
    if (panel.circle) {
      el("circle", { cx: X(0), cy: Yt(0), r: W / (xlim[1] - xlim[0]), class: "rnb-circle" }, plot);
    }
    (panel.vlines || []).forEach(function (v) {
      el("line", { x1: X(v.x), x2: X(v.x), y1: m.top, y2: m.top + H, class: "rnb-vline" }, plot);
      if (v.label) text(g, X(v.x) + 4, m.top + 14, v.label, { "font-size": 12 });
    });
    panel.series.forEach(function (s, k) {
      var color = s.color || COLORS[k % COLORS.length];
      var pts = [];
      s.x.forEach(function (v, i) {
        var y = s.y[i];
        if (finite(v) && finite(y) && (!ylog || y > 0)) pts.push([X(v), Y(y)]);
      });
      var kind = s.kind || "line";
      if (kind === "line" || kind === "steps") {
        var d = "";
        pts.forEach(function (p, i) {
          if (i === 0) d += "M" + p[0].toFixed(2) + "," + p[1].toFixed(2);
          else if (kind === "steps") d += "H" + p[0].toFixed(2) + "V" + p[1].toFixed(2);
          else d += "L" + p[0].toFixed(2) + "," + p[1].toFixed(2);
        });
        el("path", { d: d, fill: "none", stroke: color, "stroke-width": s.width || 2,
          "stroke-dasharray": s.dash || "none", class: "rnb-series", "data-series": k }, plot);
      }
      if (kind === "stem") {
        var base = Yt(ylog ? ylim[0] : 0);
        pts.forEach(function (p) {
          el("line", { x1: p[0], x2: p[0], y1: base, y2: p[1], stroke: color, "stroke-width": 1.2 }, plot);
        });
      }
      if (kind === "points" || kind === "stem") {
        pts.forEach(function (p) {
          el("circle", { cx: p[0], cy: p[1], r: s.size || 3, fill: color, class: "rnb-point",
            "data-series": k }, plot);
        });
      }
    });
    // legend: one row between the title and the plot, never over the data
    var lg = el("g", { "font-size": 12, class: "rnb-legend" }, svg), lx = m.left;
    labelled.forEach(function (s) {
      var k = panel.series.indexOf(s);
      var color = s.color || COLORS[k % COLORS.length];
      el("line", { x1: lx, x2: lx + 20, y1: 33, y2: 33, stroke: color, "stroke-width": 2.5,
        "stroke-dasharray": s.dash || "none" }, lg);
      var t = text(lg, lx + 25, 37, s.label, {});
      lx += 25 + t.getComputedTextLength() + 16;
    });
  }

  // ---- the explorers --------------------------------------------------------------------

  /** Chapter 1: eigenvalues r e^{+-i theta} and lambda; g_j = r^j cos(j theta) + lambda^j. */
  function eigenvalues(p, data) {
    var n = data.n, j = range(n);
    var g = j.map(function (k) { return Math.pow(p.r, k) * Math.cos(k * p.theta) + Math.pow(p.lam, k); });
    var rho = Math.max(p.r, Math.abs(p.lam));
    var re = [p.r * Math.cos(p.theta), p.r * Math.cos(p.theta), p.lam];
    var im = [p.r * Math.sin(p.theta), -p.r * Math.sin(p.theta), 0];
    return {
      panels: [
        { title: "eigenvalues of A", xlabel: "Re λ", ylabel: "Im λ", equal: true, circle: true,
          xlim: [-1.6, 1.6], ylim: [-1.6, 1.6],
          series: [{ x: re, y: im, kind: "points", size: 5, color: COLORS[1] }] },
        { title: "impulse response, ρ(A) = " + fmt(rho, 3), xlabel: "lag j", ylabel: "tap g_j = CA^{j}B",
          series: [{ x: j, y: g, kind: "stem", color: COLORS[0] }] },
      ],
      readouts: [
        ["spectral radius ρ(A)", fmt(rho, 4)],
        ["g_{" + (n - 1) + "}", fmt(g[n - 1], 4)],
        ["the taps", rho < 1 ? "decay" : rho === 1 ? "persist" : "grow"],
      ],
      values: { g: g, rho: rho },
    };
  }

  /** Chapter 3: interpolators of the memoryless teacher; L_T = sum_{j<T} (g_j - [j = 0])^2. */
  function tails(p, data) {
    var n = data.n, k = p.k, j = range(n), g;
    if (p.kind === "nilpotent shift") {
      g = j.map(function (i) { return i === 0 ? 1 : i === k ? p.alpha : 0; });
    } else if (p.kind === "cyclic") {
      g = j.map(function (i) { return i % k === 0 ? Math.pow(p.rho, i) : 0; });
    } else {
      g = j.map(function (i) { return i === 0 ? 1 : i < k ? 0 : p.alpha * Math.pow(p.rho, i - k); });
    }
    var target = j.map(function (i) { return i === 0 ? 1 : 0; });
    var L = [0], acc = 0;  // L[T] for T = 0..n
    j.forEach(function (i) { acc += Math.pow(g[i] - target[i], 2); L.push(acc); });
    var lengths = range(n - k + 1).map(function (i) { return k + i; });
    return {
      panels: [
        { title: p.kind + ": head fixed, tail free", xlabel: "lag j", ylabel: "tap g_j",
          vlines: [{ x: k - 0.5, label: "k = " + k }],
          series: [{ x: j, y: target, kind: "line", dash: "5 4", color: "currentColor", label: "teacher" },
                   { x: j, y: g, kind: "stem", color: COLORS[0], label: "student" }] },
        { title: "error at length " + n + ": E_{" + k + "," + n + "} = " + fmt(L[n] - L[k], 4),
          xlabel: "test length T", ylabel: "population loss L_T",
          vlines: [{ x: k, label: "" }],
          series: [{ x: lengths, y: lengths.map(function (T) { return L[T]; }), kind: "steps",
                     color: COLORS[1], label: "L_T" },
                   { x: [k], y: [L[k]], kind: "points", size: 5, color: COLORS[2],
                     label: "training loss L_{" + k + "} = " + fmt(L[k], 3) }] },
      ],
      readouts: [
        ["training loss L_{" + k + "}", fmt(L[k], 4)],
        ["extrapolation error E_{" + k + "," + n + "}", fmt(L[n] - L[k], 4)],
      ],
      values: { g: g, L: L.slice(1) },
    };
  }

  /** Explorers over trained students: every setting was computed by rnnbias at build time. */
  function table(p, data, key) {
    var entry = data.table[key];
    if (!entry) throw new Error("no precomputed entry for the setting " + key);
    // a fresh copy: drawPanel resolves shared axes in place
    return JSON.parse(JSON.stringify({ panels: entry.panels, readouts: entry.readouts,
      values: entry.values || {} }));
  }

  /** Chapter 9: the lag-space tangent kernel rho_j^2 and the tail that lazy training freezes. */
  function lazy(p, data) {
    var J = data.lags, sw2 = p.sw2, sf2 = data.sf * data.sf, sc2 = data.sc * data.sc;
    var j = range(J);
    var rho2 = j.map(function (i) {
      return Math.pow(sw2, i) * (sf2 + sc2) + (i > 0 ? i * Math.pow(sw2, i - 1) * sf2 * sc2 : 0);
    });
    var tail = j.map(function (i) { return sc2 * sf2 * Math.pow(sw2, i); });
    var limit = sw2 < 1 ? sc2 * sf2 * Math.pow(sw2, p.k) / (1 - sw2) : Infinity;
    return {
      panels: [
        { title: "tangent kernel, σ_W^2 = " + fmt(sw2, 3), xlabel: "lag j", ylabel: "ρ_j^2", ylog: true,
          series: [{ x: j, y: rho2, kind: "line", color: COLORS[0], label: "ρ_j^2" }] },
        { title: "the tail lazy training keeps, k = " + p.k, xlabel: "lag j",
          ylabel: "E (g_j^{(0)})^2", ylog: true, vlines: [{ x: p.k - 0.5, label: "k" }],
          series: [{ x: j.slice(0, p.k), y: tail.slice(0, p.k), kind: "points", color: COLORS[2],
                     label: "head (fitted)" },
                   { x: j.slice(p.k), y: tail.slice(p.k), kind: "points", color: COLORS[1],
                     label: "tail (frozen)" }] },
      ],
      readouts: [
        ["ρ_0^2", fmt(rho2[0], 4)],
        ["ρ_{" + (J - 1) + "}^2", fmt(rho2[J - 1], 4)],
        ["expected error E_{k,∞} in the limit", sw2 < 1 ? fmt(limit, 4) : "infinite (σ_W ≥ 1)"],
      ],
      values: { rho2: rho2, limit: sw2 < 1 ? limit : null },
    };
  }

  /** Chapter 9: gradient descent on a one-mode student (a, b, c), g_j = b c a^j, in the page. */
  function steps(p, data) {
    var k = data.k, n = data.steps, teacher = data.teachers[p.teacher];
    var a = data.start[0], b = data.start[1], c = data.start[2], eta = p.eta;
    var loss = [], diverged = -1;
    function taps(a, b, c, m) {
      var out = [], pw = 1;
      for (var j = 0; j < m; j++) { out.push(b * c * pw); pw *= a; }
      return out;
    }
    for (var t = 0; t <= n; t++) {
      var g = taps(a, b, c, k), L = 0, da = 0, db = 0, dc = 0, pw = 1;
      for (var j = 0; j < k; j++) {
        var r = 2 * (g[j] - teacher[j]);
        L += (g[j] - teacher[j]) * (g[j] - teacher[j]);
        db += r * c * pw;
        dc += r * b * pw;
        if (j > 0) da += r * b * c * j * Math.pow(a, j - 1);
        pw *= a;
      }
      loss.push(L);
      if (!isFinite(L) || L > 1e12) { diverged = t; break; }
      if (t === n) break;
      a -= eta * da; b -= eta * db; c -= eta * dc;
    }
    var T = data.horizon, g_end = taps(a, b, c, T);
    var E = 0;
    for (var i = k; i < T; i++) E += Math.pow(g_end[i] - teacher[i], 2);
    var ratio = eta * data.sharpness[p.teacher] / 2;
    var outcome = diverged >= 0 ? "diverged at step " + diverged
      : loss[n] < 1e-12 ? "converged" : "not converged after " + n + " steps";
    var shown = Math.min(T, 30), lags = range(shown);
    return {
      panels: [
        { title: "training loss, η = " + fmt(eta, 3), xlabel: "gradient-descent step",
          ylabel: "L_" + k, ylog: true,
          series: [{ x: range(loss.length), y: loss, kind: "line", color: COLORS[0] }] },
        { title: "taps after the last step", xlabel: "lag j", ylabel: "tap g_j",
          vlines: [{ x: k - 0.5, label: "k = " + k }],
          series: [{ x: lags, y: teacher.slice(0, shown), kind: "line", dash: "5 4",
                     color: "currentColor", label: "teacher" },
                   { x: lags, y: g_end.slice(0, shown), kind: "points", color: COLORS[1],
                     label: "student" }] },
      ],
      readouts: [
        ["η λ / 2 at the balanced interpolant", fmt(ratio, 3)],
        ["outcome", outcome],
        ["final L_" + k, diverged >= 0 ? "-" : fmt(loss[n], 3)],
        ["E_{" + k + "," + T + "}", diverged >= 0 ? "-" : fmt(E, 3)],
      ],
      values: { loss: loss, a: a, b: b, c: c, diverged: diverged },
    };
  }


  /** Symmetric eigenvalues by cyclic Jacobi rotations (small matrices: Hankel matrices). */
  function symmetricEigenvalues(M) {
    var n = M.length, a = M.map(function (row) { return row.slice(); });
    for (var sweep = 0; sweep < 100; sweep++) {
      var off = 0, total = 0;
      for (var i = 0; i < n; i++) {
        for (var j = 0; j < n; j++) {
          total += a[i][j] * a[i][j];
          if (i !== j) off += a[i][j] * a[i][j];
        }
      }
      if (!(off > 1e-30 * total)) break;
      for (var p = 0; p < n - 1; p++) {
        for (var q = p + 1; q < n; q++) {
          if (a[p][q] === 0) continue;
          var theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          var t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          var c = 1 / Math.sqrt(t * t + 1), s = t * c;
          for (var r = 0; r < n; r++) {  // columns p, q
            var arp = a[r][p], arq = a[r][q];
            a[r][p] = c * arp - s * arq;
            a[r][q] = s * arp + c * arq;
          }
          for (var r2 = 0; r2 < n; r2++) {  // rows p, q
            var apr = a[p][r2], aqr = a[q][r2];
            a[p][r2] = c * apr - s * aqr;
            a[q][r2] = s * apr + c * aqr;
          }
        }
      }
    }
    return range(n).map(function (i) { return a[i][i]; });
  }

  /** The best one-atom fit w a^j of the first k taps, |a| <= 1 (rnnbias.dynamics.one_atom_fit:
   *  a scan of 4001 points, then bisection on the derivative of the fit's loss). */
  function oneAtomFit(g, k) {
    function fit(a) {
      var vv = 0, vg = 0, gg = 0, pw = 1;
      for (var j = 0; j < k; j++) { vv += pw * pw; vg += pw * g[j]; gg += g[j] * g[j]; pw *= a; }
      var w = vg / vv;
      return { loss: Math.max(gg - vg * w, 0), w: w };
    }
    function dloss(a) {  // -2 w R'(a) for the residual of the best w a^j
      var w = fit(a).w, slope = 0;
      for (var j = 1; j < k; j++) slope += (g[j] - w * Math.pow(a, j)) * j * Math.pow(a, j - 1);
      return -2 * w * slope;
    }
    var n = 4001, step = 2 / (n - 1), best = 0, bestLoss = Infinity;
    for (var i = 0; i < n; i++) {
      var l = fit(-1 + i * step).loss;
      if (l < bestLoss) { bestLoss = l; best = i; }
    }
    var atom = -1 + best * step;
    var x0 = Math.max(atom - step, -1), x1 = Math.min(atom + step, 1);
    if (dloss(x0) < 0 && dloss(x1) > 0) {
      for (var b = 0; b < 64; b++) {
        var mid = (x0 + x1) / 2;
        if (dloss(mid) > 0) x1 = mid; else x0 = mid;
      }
      atom = (x0 + x1) / 2;
    }
    [-1, 1].forEach(function (end) { if (fit(end).loss < fit(atom).loss) atom = end; });
    var f = fit(atom);
    return { atom: atom, weight: f.w, loss: f.loss };
  }

  /** Chapter 10: gradient descent on a full student from sigma times a fixed direction. */
  function staircase(p, data) {
    var d = data.d, k = data.k, n = data.steps, eta = data.lr, every = data.record, h = data.hankel;
    var m = Math.max(k, 2 * h + 1);
    var teacher = range(m).map(function (j) {
      return Math.pow(p.lam1, j) + p.w2 * Math.pow(p.lam2, j);
    });
    var A = data.A.map(function (row) { return row.map(function (v) { return p.sigma * v; }); });
    var B = data.B.map(function (v) { return p.sigma * v; });
    var C = data.C.map(function (v) { return p.sigma * v; });
    function matvec(M, x, transpose) {
      return range(d).map(function (i) {
        var s = 0;
        for (var j = 0; j < d; j++) s += (transpose ? M[j][i] : M[i][j]) * x[j];
        return s;
      });
    }
    function dot(x, y) { var s = 0; for (var i = 0; i < d; i++) s += x[i] * y[i]; return s; }
    function taps(count) {  // g_j = C A^j B, and the vectors A^j B
      var v = [B], g = [dot(C, B)];
      for (var j = 1; j < count; j++) { v.push(matvec(A, v[j - 1], false)); g.push(dot(C, v[j])); }
      return { g: g, v: v };
    }
    var loss = [], hsv = [[], [], []], recorded = [], diverged = -1;
    for (var t = 0; t <= n; t++) {
      var forward = taps(k), g = forward.g, v = forward.v, L = 0, e = [];
      for (var j = 0; j < k; j++) { e.push(g[j] - teacher[j]); L += e[j] * e[j]; }
      loss.push(L);
      if (t % every === 0) {
        var tg = taps(2 * h + 1).g;
        var H = range(h + 1).map(function (r) { return range(h + 1).map(function (c) { return tg[r + c]; }); });
        var ev = symmetricEigenvalues(H).map(Math.abs).sort(function (x, y) { return y - x; });
        for (var i = 0; i < 3; i++) hsv[i].push(ev[i]);
        recorded.push(t);
      }
      if (!isFinite(L) || L > 1e12) { diverged = t; break; }
      if (t === n) break;
      var u = [C];  // (A^T)^j C^T
      for (var j2 = 1; j2 < k; j2++) u.push(matvec(A, u[j2 - 1], true));
      var gB = range(d).map(function () { return 0; }), gC = gB.slice();
      for (var j3 = 0; j3 < k; j3++) {
        for (var i2 = 0; i2 < d; i2++) { gB[i2] += 2 * e[j3] * u[j3][i2]; gC[i2] += 2 * e[j3] * v[j3][i2]; }
      }
      // dL/dA = 2 sum_j e_j sum_{l<j} u_l v_{j-1-l}^T = 2 sum_l u_l (sum_q e_{l+q+1} v_q)^T
      var gA = range(d).map(function () { return range(d).map(function () { return 0; }); });
      for (var l = 0; l < k - 1; l++) {
        var z = range(d).map(function () { return 0; });
        for (var q = 0; q + l + 1 < k; q++) {
          for (var i3 = 0; i3 < d; i3++) z[i3] += e[l + q + 1] * v[q][i3];
        }
        for (var r = 0; r < d; r++) {
          for (var c = 0; c < d; c++) gA[r][c] += 2 * u[l][r] * z[c];
        }
      }
      for (var r2 = 0; r2 < d; r2++) {
        for (var c2 = 0; c2 < d; c2++) A[r2][c2] -= eta * gA[r2][c2];
        B[r2] -= eta * gB[r2];
        C[r2] -= eta * gC[r2];
      }
    }
    var fitted = oneAtomFit(teacher, k);
    var g0 = teacher[0], n0 = g0 !== 0 ? Math.log(10) / Math.log1p(2 * eta * Math.abs(g0)) : Infinity;
    var start = 0;
    for (var j4 = 0; j4 < k; j4++) start += teacher[j4] * teacher[j4];
    function firstBelow(level) {
      if (!(level > 0)) return -1;
      for (var s = 0; s < loss.length; s++) if (loss[s] < level) return s;
      return -1;
    }
    var first = firstBelow(start / 2), second = firstBelow(fitted.loss / 2);
    function at(s) { return s >= 0 ? "step " + s : "not within " + n + " steps"; }
    return {
      panels: [
        { title: "training loss, σ = " + fmt(p.sigma, 2), xlabel: "gradient-descent step",
          ylabel: "L_" + k, ylog: true, yfloor: 1e-14,
          series: [{ x: range(loss.length), y: loss, kind: "line", color: COLORS[0], label: "student" },
                   { x: [0, n], y: [fitted.loss, fitted.loss], kind: "line", dash: "5 4",
                     color: "currentColor", label: "one-atom fit L_1*" }] },
        { title: "the state space, one dimension at a time", xlabel: "gradient-descent step",
          ylabel: "singular value of H_" + h, ylog: true, yfloor: 1e-16,
          series: [0, 1, 2].map(function (i) {
            return { x: recorded, y: hsv[i], kind: "line", color: COLORS[i], label: "s_" + (i + 1) };
          }) },
      ],
      readouts: [
        ["first escape, predicted", fmt(n0, 4) + " steps per decade of σ"],
        ["first drop (L below half its start)", at(first)],
        ["best one-atom fit", "a* = " + fmt(fitted.atom, 4) + ", L_1* = " + fmt(fitted.loss, 4)],
        ["second drop (below L_1*/2)", at(second)],
        ["final L_" + k, diverged >= 0 ? "diverged" : fmt(loss[n], 3)],
      ],
      values: { loss: loss, hsv: hsv, atom: fitted.atom, fit: fitted.loss, n0: n0,
                first: first, second: second, diverged: diverged },
    };
  }

  var KINDS = { eigenvalues: eigenvalues, tails: tails, table: table, lazy: lazy, steps: steps,
    staircase: staircase };

  // ---- controls and wiring -------------------------------------------------------------

  function build(root) {
    if (root.rnbBuilt) return;
    var config = JSON.parse(root.querySelector("script[type='application/json']").textContent);
    var compute = KINDS[config.kind];
    if (!compute) throw new Error("unknown explorer kind: " + config.kind);
    root.rnbBuilt = true;
    var params = {}, index = {};  // index: the position of a `values` control's value
    var form = document.createElement("div");
    form.className = "rnb-controls";
    var figure = document.createElement("div");
    figure.className = "rnb-figure";
    var readout = document.createElement("p");
    readout.className = "rnb-readout";
    readout.setAttribute("aria-live", "polite");
    config.controls.forEach(function (c, i) {
      var id = (root.id || "rnb") + "-" + c.name;
      var label = document.createElement("label");
      label.setAttribute("for", id);
      label.textContent = c.label;
      var input, shown = document.createElement("output");
      var valued = Array.isArray(c.values);  // a choice among precomputed values, by position
      var numeric = valued && c.values.every(function (v) { return typeof v === "number"; });
      if (valued && !numeric) {
        input = document.createElement("select");
        c.values.forEach(function (v, k) {
          var opt = document.createElement("option");
          opt.value = String(k);
          opt.textContent = c.labels ? c.labels[k] : String(v);
          input.appendChild(opt);
        });
      } else if (valued) {
        input = document.createElement("input");
        input.type = "range";
        input.min = 0; input.max = c.values.length - 1; input.step = 1;
      } else if (c.options) {
        input = document.createElement("select");
        c.options.forEach(function (o) {
          var opt = document.createElement("option");
          opt.value = o[1];
          opt.textContent = o[0];
          input.appendChild(opt);
        });
      } else {
        input = document.createElement("input");
        input.type = "range";
        input.min = c.min; input.max = c.max; input.step = c.step;
      }
      input.id = id;
      input.name = c.name;
      input.value = valued ? String(c.values.indexOf(c.value)) : c.value;
      var read = function () {
        if (valued) {
          index[c.name] = Number(input.value);
          params[c.name] = c.values[index[c.name]];
        } else {
          params[c.name] = c.options ? input.value : Number(input.value);
        }
      };
      var show = function () {
        shown.textContent = valued && !numeric || c.options ? ""
          : c.format === "percent" ? fmt(100 * params[c.name], 3) + " %" : fmt(params[c.name], 4);
      };
      read();
      shown.setAttribute("for", id);
      var row = document.createElement("div");
      row.className = "rnb-control";
      row.appendChild(label); row.appendChild(input); row.appendChild(shown);
      form.appendChild(row);
      var update = function () { read(); show(); render(); };
      input.addEventListener("input", update);
      input.addEventListener("change", update);
      show();
    });
    var svgs = [];
    // a control the current choice does not use is disabled, so that no control moves
    // without moving the figure (data.uses: {choice value: [names of the controls it uses]})
    var uses = (config.data || {}).uses, selector = (config.data || {}).selector;
    function enable() {
      if (!uses) return;
      var used = uses[params[selector]] || [], named = [];
      for (var key in uses) named = named.concat(uses[key]);
      config.controls.forEach(function (c) {
        if (c.name === selector || c.options || named.indexOf(c.name) < 0) return;
        var input = form.querySelector("[name='" + c.name + "']");
        input.disabled = used.indexOf(c.name) < 0;
        input.title = input.disabled ? "not used by this choice" : "";
      });
    }
    function render() {
      enable();
      var key = config.controls.filter(function (c) { return Array.isArray(c.values); })
        .map(function (c) { return index[c.name]; }).join("|");
      var out = compute(params, config.data || {}, key);
      out.panels.forEach(function (panel, i) {
        if (!svgs[i]) {
          svgs[i] = el("svg", { role: "img", class: "rnb-panel" }, figure);
        }
        svgs[i].setAttribute("aria-label", panel.title);
        // as many panels side by side as fit at 300 px or more each
        var across = Math.max(1, Math.min(out.panels.length, Math.floor(figure.clientWidth / 300)));
        var width = figure.clientWidth ? Math.floor(figure.clientWidth / across) - 6 : 400;
        drawPanel(svgs[i], panel, Math.max(width, 260), config.height || 290,
          (root.id || "rnb") + "-panel" + i, (config.data || {}).axes);
      });
      readout.innerHTML = out.readouts.map(function (r) {
        return richHTML(r[0]) + ": " + richHTML(r[1]);
      }).join(" &nbsp;·&nbsp; ");
      root.rnbState = { params: Object.assign({}, params), key: key, panels: out.panels,
        readouts: out.readouts, values: out.values };
    }
    var fallback = root.querySelector(".rnb-fallback");
    if (fallback) fallback.hidden = true;
    var note = root.querySelector(".rnb-note");
    if (note) note.innerHTML = richHTML(note.textContent);  // g_j, r^j as sub/superscripts
    root.insertBefore(form, note);
    root.insertBefore(figure, note);
    root.insertBefore(readout, note);
    render();
    var width = figure.clientWidth;
    window.addEventListener("resize", function () {
      if (figure.clientWidth !== width) { width = figure.clientWidth; render(); }
    });
  }

  function buildAll() {
    document.querySelectorAll(".rnb-explorer").forEach(function (root) {
      try { build(root); } catch (e) {
        root.classList.add("rnb-broken");
        throw e;
      }
    });
  }

  window.rnbExplorers = { KINDS: KINDS, build: build, buildAll: buildAll, fmt: fmt };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", buildAll);
  else buildAll();
})();
