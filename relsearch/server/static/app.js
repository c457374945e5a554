// relsearch search page: plain JavaScript against the server's JSON API (no libraries, no build step).
"use strict";

const $ = (id) => document.getElementById(id);
const SVG_NS = "http://www.w3.org/2000/svg";

// "a:b" with a literal ':' or '\' inside a word escaped, as the API and the CLI read it.
function formatPair(head, tail) {
  const esc = (w) => w.replaceAll("\\", "\\\\").replaceAll(":", "\\:");
  return `${esc(head)}:${esc(tail)}`;
}

// "A:B C:?" / "A:B ?:D" (optionally "A:B :: C:?") -> an analogy; anything else is a pair query.
function parseInput(text) {
  const q = text.trim().replace(/\s+::\s+/, " ");
  const m = q.match(/^(.+?)\s+(\?:.+|.+:\?)$/);
  if (!m) return { kind: "pair", pair: q };
  const target = m[2];
  if (target.startsWith("?:")) return { kind: "analogy", ab: m[1], d: target.slice(2) };
  return { kind: "analogy", ab: m[1], c: target.slice(0, -2) };
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function queryLink(head, tail) {
  const pair = formatPair(head, tail);
  const a = el("a", { href: `?q=${encodeURIComponent(pair)}`, "data-pair": pair }, pair);
  a.addEventListener("click", (event) => {
    event.preventDefault();
    $("q").value = pair;
    run(true);
  });
  return a;
}

function renderHits(title, hits, answer) {
  $("hits-title").textContent = title;
  const headRow = $("hits-head");
  headRow.replaceChildren();
  const columns = ["#", ...(answer ? ["answer"] : []), "pair", "score"];
  for (const name of columns) headRow.append(el("th", name === "#" || name === "score" ? { class: "num" } : {}, name));
  const body = $("hits").tBodies[0];
  body.replaceChildren();
  for (const hit of hits) {
    const row = el("tr");
    row.append(el("td", { class: "num" }, String(hit.rank)));
    if (answer) row.append(el("td", { class: "answer" }, hit.answer));
    const cell = el("td", { class: "pair" });
    cell.append(queryLink(hit.head, hit.tail));
    row.append(cell);
    const score = el("td", { class: "num score" }, hit.score.toFixed(4));
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.max(0, hit.score) * 4}rem`;
    score.append(bar);
    row.append(score);
    body.append(row);
  }
}

function drawMap(points, ratios, nQuery) {
  const svg = $("map");
  svg.replaceChildren();
  const W = 520, H = 420, pad = 44;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const span = (v) => Math.max(...v) - Math.min(...v) || 1;
  const sx = (x) => pad + ((x - Math.min(...xs)) / span(xs)) * (W - 2 * pad);
  const sy = (y) => H - pad - ((y - Math.min(...ys)) / span(ys)) * (H - 2 * pad);
  svg.append(svgEl("line", { class: "axis", x1: pad / 2, y1: H - pad / 2, x2: W - pad / 2, y2: H - pad / 2 }));
  svg.append(svgEl("line", { class: "axis", x1: pad / 2, y1: pad / 2, x2: pad / 2, y2: H - pad / 2 }));
  svg.append(svgEl("text", { x: W - pad / 2, y: H - pad / 2 - 4, "text-anchor": "end" }, `PC1 ${(ratios[0] * 100).toFixed(0)}%`));
  svg.append(svgEl("text", { x: pad / 2 + 4, y: pad / 2 + 10 }, `PC2 ${(ratios[1] * 100).toFixed(0)}%`));
  const q = points[0];
  points.forEach((p, i) => {
    if (i >= nQuery) svg.append(svgEl("line", { class: "spoke", x1: sx(q.x), y1: sy(q.y), x2: sx(p.x), y2: sy(p.y) }));
  });
  points.forEach((p, i) => {
    const isQuery = i < nQuery;
    const group = svgEl("g", { class: isQuery ? "point query-point" : "point hit-point", "data-pair": p.pair });
    const dot = svgEl("circle", { cx: sx(p.x), cy: sy(p.y), r: isQuery ? 7 : 5, class: isQuery ? "query" : "hit" });
    dot.append(svgEl("title", {}, p.pair));
    group.append(dot);
    const right = sx(p.x) < W - 120;
    group.append(svgEl("text", {
      x: sx(p.x) + (right ? 9 : -9), y: sy(p.y) + 4, "text-anchor": right ? "start" : "end",
      class: isQuery ? "query-label" : "",
    }, p.pair));
    if (!isQuery) {
      group.addEventListener("click", () => { $("q").value = p.pair; run(true); });
    }
    svg.append(group);
  });
  $("map-caption").textContent =
    "PCA of the relation vectors of the query (orange) and its hits: nearby points are pairs in similar relations.";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("results").hidden = true;
  $("status").textContent = "";
}

async function run(push) {
  const text = $("q").value;
  $("error").hidden = true;
  if (!text.trim()) return;
  const k = $("k").value || "10";
  const parsed = parseInput(text);
  if (push) history.pushState(null, "", `?q=${encodeURIComponent(text.trim())}`);
  const started = performance.now();
  $("status").textContent = "searching…";
  try {
    let hits, title, answer = false, queryPair;
    if (parsed.kind === "pair") {
      const params = new URLSearchParams({ pair: parsed.pair, k });
      if ($("head").value.trim()) params.set("head", $("head").value.trim());
      if ($("tail").value.trim()) params.set("tail", $("tail").value.trim());
      hits = await api(`/query?${params}`);
      title = `pairs like ${parsed.pair}`;
      queryPair = parsed.pair;
    } else {
      const params = new URLSearchParams({ ab: parsed.ab, k });
      if (parsed.c !== undefined) params.set("c", parsed.c); else params.set("d", parsed.d);
      hits = await api(`/analogy?${params}`);
      title = parsed.c !== undefined ? `${parsed.ab} :: ${parsed.c}:?` : `${parsed.ab} :: ?:${parsed.d}`;
      answer = true;
      queryPair = parsed.ab;
    }
    const elapsed = performance.now() - started;
    renderHits(title, hits, answer);
    $("results").hidden = false;
    $("status").textContent = hits.length
      ? `${hits.length} hit(s) in ${elapsed.toFixed(0)} ms`
      : "no pair passes the filters";
    const pairs = [queryPair, ...hits.map((h) => formatPair(h.head, h.tail))];
    if (hits.length) {
      const projection = await api("/projection", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ pairs }),
      });
      drawMap(projection.points, projection.explained_variance_ratio, 1);
    } else {
      $("map").replaceChildren();
      $("map-caption").textContent = "";
    }
  } catch (error) {
    showError(error.message);
  }
}

async function start() {
  $("search").addEventListener("submit", (event) => { event.preventDefault(); run(true); });
  window.addEventListener("popstate", () => {
    const q = new URLSearchParams(location.search).get("q");
    if (q) { $("q").value = q; run(false); }
  });
  try {
    const info = await api("/info");
    const m = info.manifest || {};
    const pairs = (m.counts && m.counts.pairs) || 0;
    const words = (m.counts && m.counts.words) || 0;
    const model = (m.encoder && m.encoder.model) || "?";
    $("index-info").textContent = `${pairs.toLocaleString("en")} pairs over ${words.toLocaleString("en")} words · model ${model}`;
  } catch (error) {
    $("index-info").textContent = `cannot read the index: ${error.message}`;
  }
  const q = new URLSearchParams(location.search).get("q");
  if (q) { $("q").value = q; run(false); }
}

document.addEventListener("DOMContentLoaded", start);
