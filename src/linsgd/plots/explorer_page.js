// The explorer's SGD and drawing: plain JavaScript and SVG, no library, no network.
// DATA (set by the page): X (n rows of d), y, idx (the two coordinates of θ = (w, b) drawn), names,
// opt (θ* of all d + 1), H2 (the 2 × 2 Hessian block of the drawn coordinates), lossOpt, floor, epochs,
// limits ({batch: mean-square stability limit}), lrs, batches, stds (the sliders' values).
"use strict";
const SVGNS = "http://www.w3.org/2000/svg";
const LRS = DATA.lrs, BATCHES = DATA.batches, STDS = DATA.stds;  // the sliders' values

function generator(seed) {  // mulberry32: a small seeded generator of uniforms in [0, 1)
  let a = (seed * 2654435761 + 1013904223) >>> 0;
  return function () {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(u) {  // Box–Muller from two uniforms
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function fullLoss(w, b) {  // mean of ½(ŷ − y)² over all examples
  let s = 0;
  for (let i = 0; i < DATA.y.length; i++) {
    let r = b - DATA.y[i];
    const x = DATA.X[i];
    for (let j = 0; j < w.length; j++) r += x[j] * w[j];
    s += r * r;
  }
  return 0.5 * s / DATA.y.length;
}

// The chapter's minibatch SGD: w ← w − lr/|𝓑| Σ x(xᵀw + b − y), b ← b − lr/|𝓑| Σ (xᵀw + b − y)
function run(p) {
  const n = DATA.y.length, d = DATA.X[0].length, B = Math.min(p.batch, n), u = generator(p.seed);
  const w = Array.from({length: d}, () => p.initStd * normal(u));
  let b = 0;
  const point = () => DATA.idx.map(k => (k < d ? w[k] : b));
  const path = [point()], loss = [fullLoss(w, b)];
  let diverged = null;
  for (let epoch = 0; epoch < DATA.epochs && diverged === null; epoch++) {
    const order = Array.from({length: n}, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {  // Fisher–Yates
      const j = Math.floor(u() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < n; start += B) {
      const rows = order.slice(start, start + B), gw = new Array(d).fill(0);
      let gb = 0;
      for (const i of rows) {
        let r = b - DATA.y[i];
        for (let j = 0; j < d; j++) r += DATA.X[i][j] * w[j];
        for (let j = 0; j < d; j++) gw[j] += r * DATA.X[i][j];
        gb += r;
      }
      for (let j = 0; j < d; j++) w[j] -= p.lr * gw[j] / rows.length;
      b -= p.lr * gb / rows.length;
      const l = fullLoss(w, b);
      if (!Number.isFinite(l) || l > 1e30) { diverged = path.length; break; }
      path.push(point());
      loss.push(l);
    }
  }
  return {path, loss, diverged};
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function text(parent, x, y, s, anchor = "middle") {
  el("text", {x, y, "text-anchor": anchor, "font-size": 11}, parent).textContent = s;
}

const W = 460, Hgt = 340, M = {l: 56, r: 12, t: 16, b: 40};

function frame(svg, title, width = W - M.l - M.r) {
  svg.replaceChildren();
  el("rect", {x: M.l, y: M.t, width, height: Hgt - M.t - M.b, fill: "none", stroke: "#999"}, svg);
  text(svg, M.l + width / 2, Hgt - 6, title);
}

function drawLoss(svg, r) {
  frame(svg, "step");
  const lo = Math.log10(Math.min(...r.loss, DATA.lossOpt, DATA.floor || Infinity)) - 0.2;
  const hi = Math.log10(Math.max(...r.loss)) + 0.2;
  const steps = Math.max(r.loss.length - 1, 1);
  const sx = s => M.l + (W - M.l - M.r) * s / steps;
  const sy = v => M.t + (Hgt - M.t - M.b) * (hi - Math.log10(v)) / (hi - lo);
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e += Math.max(1, Math.ceil((hi - lo) / 8))) {
    text(svg, M.l - 4, sy(10 ** e) + 4, "1e" + e, "end");
  }
  text(svg, M.l, Hgt - M.b + 14, "0");
  text(svg, W - M.r, Hgt - M.b + 14, String(steps));
  const level = (v, color, dash) => v > 0 && el("line", {x1: M.l, x2: W - M.r, y1: sy(v), y2: sy(v), stroke: color,
    "stroke-dasharray": dash}, svg);
  level(DATA.floor, "green", "6 3");
  level(DATA.lossOpt, "purple", "8 3 2 3");
  el("path", {id: "loss-curve", fill: "none", stroke: "steelblue", "stroke-width": 1.5,
    d: r.loss.map((v, k) => (k ? "L" : "M") + sx(k).toFixed(1) + " " + sy(v).toFixed(1)).join("")}, svg);
  const k = r.loss.length - 1;
  el("text", {x: sx(k), y: sy(r.loss[k]) + 4, "text-anchor": "middle", fill: r.diverged ? "red" : "steelblue",
    "font-size": 14}, svg).textContent = r.diverged ? "×" : "□";
}

function drawPath(svg, r) {
  const side = Math.min(W - M.l - M.r, Hgt - M.t - M.b);  // equal units on both axes: the bowl's real shape
  frame(svg, DATA.names[0] + " (horizontal) · " + DATA.names[1] + " (vertical)", side);
  const o = DATA.idx.map(k => DATA.opt[k]);
  const start = r.path[0], reach = 8 * Math.max(Math.abs(start[0] - o[0]), Math.abs(start[1] - o[1]), 1e-3);
  const kept = r.path.filter(p => Math.abs(p[0] - o[0]) <= reach && Math.abs(p[1] - o[1]) <= reach);
  const pts = kept.concat([o]);
  let x0 = Math.min(...pts.map(p => p[0])), x1 = Math.max(...pts.map(p => p[0]));
  let y0 = Math.min(...pts.map(p => p[1])), y1 = Math.max(...pts.map(p => p[1]));
  const half = Math.max(x1 - x0, y1 - y0, 0.05) * 0.55, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  [x0, x1, y0, y1] = [cx - half, cx + half, cy - half, cy + half];
  const sx = v => M.l + side * (v - x0) / (x1 - x0), sy = v => M.t + side * (y1 - v) / (y1 - y0);
  const clip = el("clipPath", {id: "box"}, svg);
  el("rect", {x: M.l, y: M.t, width: side, height: side}, clip);
  const g = el("g", {"clip-path": "url(#box)"}, svg);
  // contours of the bowl L* + ½ δᵀHδ: ellipses along H's eigenvectors
  const [[a, c], [, e]] = DATA.H2, tr = a + e, det = a * e - c * c;
  const l1 = tr / 2 + Math.sqrt(tr * tr / 4 - det), l2 = tr / 2 - Math.sqrt(tr * tr / 4 - det);
  const angle = Math.abs(c) > 1e-12 ? Math.atan2(l1 - a, c) : (a >= e ? 0 : Math.PI / 2);
  for (let k = 1; k <= 10; k++) {
    const level = half * half * l2 * 2 * (k / 10) ** 2, rx = Math.sqrt(level / l1), ry = Math.sqrt(level / l2);
    const ring = [];
    for (let t = 0; t <= 64; t++) {
      const u = rx * Math.cos(2 * Math.PI * t / 64), v = ry * Math.sin(2 * Math.PI * t / 64);
      const px = o[0] + u * Math.cos(angle) - v * Math.sin(angle);
      const py = o[1] + u * Math.sin(angle) + v * Math.cos(angle);
      ring.push((t ? "L" : "M") + sx(px).toFixed(1) + " " + sy(py).toFixed(1));
    }
    el("path", {d: ring.join(""), fill: "none", stroke: "#ddd"}, g);
  }
  el("path", {id: "sgd-path", fill: "none", stroke: "steelblue", "stroke-width": 1.2,
    d: r.path.map((p, k) => (k ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join("")}, g);
  el("circle", {cx: sx(start[0]), cy: sy(start[1]), r: 4, fill: "white", stroke: "steelblue"}, g);
  el("text", {x: sx(o[0]), y: sy(o[1]) + 6, "text-anchor": "middle", "font-size": 18, fill: "goldenrod"}, g)
    .textContent = "★";
  text(svg, M.l, M.t + side + 14, x0.toPrecision(3));
  text(svg, M.l + side, M.t + side + 14, x1.toPrecision(3));
  text(svg, M.l - 4, M.t + side, y0.toPrecision(3), "end");
  text(svg, M.l - 4, M.t + 10, y1.toPrecision(3), "end");
}

function settings() {
  const v = id => Number(document.getElementById(id).value);
  return {lr: LRS[v("lr")], batch: BATCHES[v("batch")], initStd: STDS[v("std")], seed: v("seed")};
}

function redraw() {
  const p = settings(), r = run(p), B = Math.min(p.batch, DATA.y.length);
  for (const [id, value] of [["lr-v", p.lr], ["batch-v", p.batch], ["std-v", p.initStd], ["seed-v", p.seed]]) {
    document.getElementById(id).textContent = String(value);
  }
  drawLoss(document.getElementById("loss"), r);
  drawPath(document.getElementById("where"), r);
  const limit = DATA.limits[String(B)];
  const end = r.diverged ? `diverged at step ${r.diverged} (the loss passed 1e30)`
    : `final loss ${r.loss[r.loss.length - 1].toPrecision(3)} after ${r.loss.length - 1} steps`;
  document.getElementById("status").textContent = `${end}; the optimum's loss ${DATA.lossOpt.toPrecision(3)}` +
    (limit ? `; batch ${B} is mean-square stable for lr below about ${limit.toPrecision(3)}` : "");
  return r;
}

window.explorer = {run, redraw, settings};
for (const id of ["lr", "batch", "std", "seed"]) document.getElementById(id).addEventListener("input", redraw);
redraw();

// #selftest (for a headless browser, which cannot drag): move each slider one notch as a user would, through
// an input event, and report whether the drawn path changed; plus one run with no randomness left (init std
// 0, a batch of all examples) for comparison with linsgd's own. The report goes into a pre element, id selftest.
if (location.hash === "#selftest") {
  const drawn = () => document.getElementById("sgd-path").getAttribute("d");
  const report = {changed: {}};
  for (const id of ["lr", "batch", "std", "seed"]) {
    const slider = document.getElementById(id), before = drawn();
    const v = Number(slider.value);
    slider.value = String(v === Number(slider.max) ? v - 1 : v + 1);
    slider.dispatchEvent(new Event("input", {bubbles: true}));
    report.changed[id] = drawn() !== before;
  }
  const exact = run({lr: 0.1, batch: DATA.y.length, initStd: 0, seed: 0});
  report.fullBatch = {lr: 0.1, last: exact.path[exact.path.length - 1], loss: exact.loss[exact.loss.length - 1],
    steps: exact.loss.length - 1};
  const out = document.createElement("pre");
  out.id = "selftest";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
}
