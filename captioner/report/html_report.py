"""One self-contained, offline HTML page from an evaluation (or caption-folder) JSON: it computes nothing itself.

Layout: the metrics table, the training curves as inline SVG, then one row per image (thumbnail or strip of clip
frames, generated caption, references, scores), sortable and filterable by a small inline script.

Safety: every caption, reference and file name goes through `html.escape`; the page's Content-Security-Policy
lets only its own script (by nonce) run and loads nothing from anywhere, so even a missed escape could not run
code or reach the network.
"""

from __future__ import annotations

import math
import secrets
from html import escape

from captioner.evaluation.metrics import NAMES

SCORE_KEYS = ("cider", "bleu4", "meteor", "rouge_l")  # per-image columns, in this order, where present
CURVE_COLOURS = {"loss": "#1f77b4", "val_loss": "#d62728", "val_bleu1": "#9467bd", "val_bleu4": "#2ca02c"}


def render_report(data: dict, previews: dict[str, list[str]]) -> str:
    """The page for `data` (evaluation JSON, or {"captions": [...]} from caption-folder); previews: key -> data URIs."""
    nonce = secrets.token_urlsafe(16)
    items = data.get("captions", [])
    scored = [k for k in SCORE_KEYS if items and all(k in it for it in items)]
    model = data.get("model", "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        f'style-src \'unsafe-inline\'; script-src \'nonce-{nonce}\'">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>captioner report: {escape(model or data.get('folder', ''))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>captioner report</h1><p class=\"what\">{_summary(data)}</p>",
    ]
    if data.get("encoder_weights") == "random":
        parts.append('<p class="warn">The encoder has RANDOM weights (not ImageNet): these captions and scores say '
                     "nothing about real captioning.</p>")
    parts.append(_metrics_table(data))
    parts.append(_curves(data.get("training") or {}))
    parts.append(_items_table(items, scored, previews, data.get("frames", 0)))
    parts.append(f'<script nonce="{nonce}">{SCRIPT}</script></body></html>')
    return "\n".join(p for p in parts if p)


def _summary(data: dict) -> str:
    bits = []
    if data.get("model"):
        bits.append(f"model <code>{escape(data['model'])}</code>")
    if data.get("folder"):
        bits.append(f"folder <code>{escape(data['folder'])}</code>")
    if "split" in data:
        bits.append(f"split {escape(str(data['split'] or 'all'))}")
    if data.get("frames"):
        bits.append(f"clips of {int(data['frames'])} frames")
    if "beam_size" in data:
        bits.append("greedy search" if data["beam_size"] == 1 else f"beam {int(data['beam_size'])}")
    count = len(data.get("captions", []))
    bits.append(f"{count} {'clips' if data.get('frames') else 'images'}")
    return ", ".join(bits)


def _metrics_table(data: dict) -> str:
    rows = [f"<tr><th>{label}</th><td>{data[key]:.4f}</td></tr>" for key, label in NAMES.items()
            if isinstance(data.get(key), (int, float))]
    if not rows:
        return ""
    notes = []
    if data.get("meteor_skipped"):
        notes.append(f"METEOR skipped: {escape(data['meteor_skipped'])}")
    if data.get("spice"):
        notes.append(escape(data["spice"]))
    note = "".join(f'<p class="note">{n}</p>' for n in notes)
    return f'<h2>Metrics</h2><table class="metrics">{"".join(rows)}</table>{note}'


def _curves(training: dict) -> str:
    history = training.get("history") or []
    if not history:
        return ""
    best = training.get("best_epoch")
    losses = _plot(history, ("loss", "val_loss"), "loss per epoch", best)
    bleu = _plot(history, ("val_bleu1", "val_bleu4"), "validation BLEU (greedy search) per epoch", best)
    caption = f"best epoch {int(best)} (lowest validation loss, dashed line): the bundle's weights" if best else ""
    scst = training.get("scst_history") or []
    if scst:  # self-critical fine-tuning after the cross-entropy epochs above
        caption = caption.replace(": the bundle's weights", ": where self-critical training started")
        scst_best = training.get("scst_best_epoch") or None
        rewards = _plot(scst, ("reward", "baseline"), "self-critical: mean sample reward (CIDEr-D) per epoch",
                        scst_best)
        beam = int((training.get("scst_settings") or {}).get("val_beam_size", 1))  # bundles before it: greedy
        search = "greedy" if beam == 1 else f"beam {beam}"
        cider = _plot(scst, ("val_cider",), f"self-critical: validation CIDEr-D ({search}) per epoch", scst_best)
        which = (f"best self-critical epoch {int(scst_best)} (dashed line): the bundle's weights" if scst_best else
                 "no self-critical epoch beat the starting model: the bundle holds its weights")
        return (f'<h2>Training</h2><div class="curves">{losses}{bleu}</div><p class="note">{caption}</p>'
                f'<div class="curves">{rewards}{cider}</div><p class="note">{which}</p>')
    return f'<h2>Training</h2><div class="curves">{losses}{bleu}</div><p class="note">{caption}</p>'


def _plot(history: list[dict], keys: tuple[str, ...], title: str, best=None, width: int = 420,
          height: int = 220) -> str:
    """A small line chart in SVG; only numbers from the history reach it."""
    series = {k: [(h["epoch"], h[k]) for h in history if _finite(h.get(k))] for k in keys}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return ""
    points = [p for v in series.values() for p in v]
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(0.0, min(p[1] for p in points)), max(p[1] for p in points)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    left, right, top, bottom = 48, 12, 24, 30

    def x(v):
        return left + (v - x0) / (x1 - x0) * (width - left - right)

    def y(v):
        return height - bottom - (v - y0) / (y1 - y0) * (height - top - bottom)

    svg = [f'<svg class="plot" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title)}"><text x="{left}" y="15" class="title">{escape(title)}</text>',
           f'<line x1="{left}" y1="{y(y0):.1f}" x2="{width - right}" y2="{y(y0):.1f}" class="axis"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" class="axis"/>']
    for value in (y0, (y0 + y1) / 2, y1):
        svg.append(f'<text x="{left - 4}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">{value:.3g}</text>')
    for value in sorted({x0, x1}):
        svg.append(f'<text x="{x(value):.1f}" y="{height - 12}" class="tick" text-anchor="middle">{value:g}</text>')
    svg.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 1}" class="tick" text-anchor="middle">'
               "epoch</text>")
    if _finite(best) and x0 <= best <= x1:
        svg.append(f'<line x1="{x(best):.1f}" y1="{top}" x2="{x(best):.1f}" y2="{height - bottom}" class="best"/>')
    legend = [f'<rect x="{width - right - 70}" y="{top}" width="70" height="{14 * len(series) + 4}" fill="#fff" '
              'fill-opacity="0.85"/>']  # drawn last, over the lines, so a line never hides a name
    for n, (key, pts) in enumerate(series.items()):
        colour = CURVE_COLOURS.get(key, "#555")
        line = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in pts)
        svg.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        svg += [f'<circle cx="{x(e):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>' for e, v in pts]
        legend.append(f'<text x="{width - right - 4}" y="{top + 12 + 14 * n}" class="legend" fill="{colour}" '
                      f'text-anchor="end">{escape(key)}</text>')
    svg += legend
    svg.append("</svg>")
    return "".join(svg)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _items_table(items: list[dict], scored: list[str], previews: dict[str, list[str]], frames: int) -> str:
    kind = "clip" if frames else "image"
    head = ['<th>preview</th>', f'<th><button type="button" data-key="name">{kind}</button></th>',
            "<th>generated caption</th>"]
    with_references = any("references" in it for it in items)
    if with_references:
        head.append("<th>references</th>")
    head += [f'<th><button type="button" data-key="{k}">{NAMES[k]}</button></th>' for k in scored]
    # Worst first by default (the first score column, CIDEr-D when present), so problems are seen first.
    order = sorted(items, key=lambda it: (tuple(it[k] for k in scored[:1]), it.get("input", "")))
    rows = [_row(it, scored, previews.get(it.get("input", ""), []), with_references) for it in order]
    default = scored[0] if scored else "name"
    return (f'<h2>{kind.capitalize()}s</h2><div class="controls"><input id="filter" type="search" '
            f'placeholder="filter: caption, reference or file name" aria-label="filter">'
            f'<span id="shown">{len(items)} of {len(items)} shown</span></div>'
            f'<table id="items" data-sort="{default}" data-dir="asc"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _row(item: dict, scored: list[str], uris: list[str], with_references: bool) -> str:
    name = item.get("input", "")
    pictures = "".join(f'<img src="{escape(u)}" alt="">' for u in uris) or '<span class="note">no preview</span>'
    caption = escape(item.get("caption", "")) if "caption" in item else \
        f'<span class="error">{escape(item.get("error", ""))}</span>'
    cells = [f'<td class="preview">{pictures}</td>', f'<td class="name">{escape(name)}</td>',
             f'<td class="caption">{caption}</td>']
    if with_references:
        refs = "".join(f"<li>{escape(r)}</li>" for r in item.get("references", []))
        cells.append(f'<td class="refs"><ul>{refs}</ul></td>')
    cells += [f'<td class="score">{item[k]:.4f}</td>' for k in scored]
    data = " ".join(f'data-{k.replace("_", "-")}="{float(item[k])!r}"' for k in scored)
    return f'<tr data-name="{escape(name)}" {data}>{"".join(cells)}</tr>'


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em;margin:0 0 .2em} h2{font-size:1.15em;margin:1.4em 0 .5em}
.what{color:#555} .warn{background:#fff3cd;border:1px solid #e0c36a;padding:.5em .8em}
.note{color:#666;font-size:.9em} .error{color:#b00}
table{border-collapse:collapse} td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
table.metrics td{text-align:right;font-variant-numeric:tabular-nums}
th button{font:inherit;font-weight:bold;border:0;background:none;cursor:pointer;padding:0}
th button.asc::after{content:" \\25B2"} th button.desc::after{content:" \\25BC"}
td.score{text-align:right;font-variant-numeric:tabular-nums} td.name{font-family:monospace;word-break:break-all;min-width:12em}
td.preview img{display:inline-block;margin-right:2px;border:1px solid #ddd} th{white-space:nowrap} td.refs ul{margin:0;padding-left:1.1em;color:#555}
.controls{margin:.5em 0} #filter{width:24em;padding:3px} #shown{margin-left:1em;color:#666}
.curves{display:flex;flex-wrap:wrap;gap:1em} svg.plot{border:1px solid #eee}
svg .axis{stroke:#888} svg .best{stroke:#999;stroke-dasharray:4 3} svg .tick{font-size:10px;fill:#555} svg .title{font-size:12px;font-weight:bold}
svg .legend{font-size:11px}
"""

# Sorting compares numbers from data- attributes (or the file name); filtering matches the row's visible text.
SCRIPT = """
(function () {
  var table = document.getElementById('items');
  if (!table) { return; }
  var body = table.tBodies[0];
  var buttons = table.querySelectorAll('th button');
  function value(row, key) {
    return key === 'name' ? row.getAttribute('data-name') : parseFloat(row.getAttribute('data-' + key.replace('_', '-')));
  }
  function sort(key, dir) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, key), y = value(b, key);
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (c === 0) { c = a.getAttribute('data-name') < b.getAttribute('data-name') ? -1 : 1; }
      return dir === 'asc' ? c : -c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.setAttribute('data-sort', key);
    table.setAttribute('data-dir', dir);
    buttons.forEach(function (b) {
      b.className = b.getAttribute('data-key') === key ? dir : '';
    });
  }
  buttons.forEach(function (b) {
    b.addEventListener('click', function () {
      var key = b.getAttribute('data-key');
      var same = table.getAttribute('data-sort') === key;
      sort(key, same && table.getAttribute('data-dir') === 'asc' ? 'desc' : 'asc');
    });
  });
  var filter = document.getElementById('filter');
  var shown = document.getElementById('shown');
  filter.addEventListener('input', function () {
    var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var text = row.textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !hit;
      if (hit) { count += 1; }
    });
    shown.textContent = count + ' of ' + body.rows.length + ' shown';
  });
  sort(table.getAttribute('data-sort'), table.getAttribute('data-dir'));
})();
"""
