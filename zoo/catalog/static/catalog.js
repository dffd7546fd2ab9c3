/* zoo catalog: sorting and filtering of the index, driven by the URL's fragment
 * (index.html#task=image-generation&sort=fid&where=fid<20), so that a view can be
 * bookmarked and works from file:// with no server. The filter grammar and the
 * sort order are those of `zoo list --where/--sort` (zoo/catalog/query.py).
 * On every page: marks each picture data-state="loaded" or "missing".
 * No network, no eval, nothing read from the cards. */
(function () {
  "use strict";

  function markImages() {
    var imgs = document.getElementsByTagName("img");
    Array.prototype.forEach.call(imgs, function (img) {
      function done() {
        var ok = img.naturalWidth > 0;
        img.setAttribute("data-state", ok ? "loaded" : "missing");
        if (!ok) { img.title = "picture file missing: " + (img.getAttribute("alt") || ""); }
      }
      if (img.complete) { done(); } else {
        img.addEventListener("load", done);
        img.addEventListener("error", done);
      }
    });
  }
  markImages();

  var table = document.getElementById("models");
  if (!table) { return; }

  var FIELDS = ["name", "task", "dataset", "arch", "source", "license", "plugin"];
  var COND = /^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(<=|>=|!=|==|<|>|=)\s*(.*?)\s*$/;
  var SPLIT = /\s*,\s*|\s+and\s+/i;
  var directions = JSON.parse(table.getAttribute("data-directions") || "{}");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  rows.forEach(function (r) {
    r.zooMetrics = JSON.parse(r.getAttribute("data-metrics") || "{}");
    r.zooProtocols = JSON.parse(r.getAttribute("data-protocols") || "{}");
  });

  function protocolOf(row, key) {
    var p = row.zooProtocols;
    return p[key] || p[baseOf(key)] || "protocol not stated";
  }
  var KEYS = ["task", "dataset", "arch", "sort", "where"];
  var control = {};
  KEYS.forEach(function (k) { control[k] = document.getElementById("f-" + k); });
  var status = document.getElementById("status");
  var errorBox = document.getElementById("where-error");

  function QueryError(message) { this.message = message; }

  function globToRegExp(glob) {
    var out = "";
    for (var i = 0; i < glob.length; i++) {
      var c = glob[i];
      if (c === "*") { out += ".*"; }
      else if (c === "?") { out += "."; }
      else if (c === "[") {
        var j = glob.indexOf("]", i + 2);
        if (j < 0) { out += "\\["; continue; }
        var body = glob.slice(i + 1, j).replace(/\\/g, "\\\\");
        if (body[0] === "!") { body = "^" + body.slice(1); }
        out += "[" + body + "]";
        i = j;
      } else { out += c.replace(/[.+^${}()|\\\/]/g, "\\$&"); }
    }
    return new RegExp("^" + out + "$");
  }

  function parseNumber(raw) {
    var t = raw.trim().toLowerCase();
    if (/^[+-]?(inf|infinity)$/.test(t)) { return t[0] === "-" ? -Infinity : Infinity; }
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) { return NaN; }
    return Number(t);
  }

  function parseWhere(text) {
    var conds = [];
    if (!text.trim()) { return conds; }
    text.trim().split(SPLIT).forEach(function (part) {
      var m = COND.exec(part);
      if (!m || !m[3]) {
        throw new QueryError("cannot read the condition '" + part + "': write KEY OP VALUE, e.g. fid<20, accuracy>=0.9, dataset=mnist");
      }
      var key = m[1].toLowerCase(), op = m[2] === "==" ? "=" : m[2], raw = m[3];
      if (FIELDS.indexOf(key) >= 0) {
        if (op !== "=" && op !== "!=") { throw new QueryError("'" + key + "' is text: compare it with = or !=, not " + op); }
        conds.push({ key: key, op: op, glob: globToRegExp(raw.replace(/^['"]|['"]$/g, "").toLowerCase()) });
        return;
      }
      if (!Object.prototype.hasOwnProperty.call(directions, key)) {
        throw new QueryError("'" + key + "' is neither a field (" + FIELDS.join(", ") + ") nor a metric of any model (" + Object.keys(directions).join(", ") + ")");
      }
      var v = parseNumber(raw);
      if (isNaN(v)) { throw new QueryError("'" + key + "' is a metric: compare it with a number, not '" + raw + "'"); }
      conds.push({ key: key, op: op, num: v });
    });
    return conds;
  }

  function field(row, key) { return (row.getAttribute("data-" + key) || "").toLowerCase(); }
  function value(row, key) {
    var v = row.zooMetrics[key];
    return (typeof v === "number" && !isNaN(v)) ? v : null;
  }

  function holds(row, c) {
    if (c.glob) { var hit = c.glob.test(field(row, c.key)); return c.op === "=" ? hit : !hit; }
    var v = value(row, c.key);
    if (v === null) { return false; }
    switch (c.op) {
      case "<": return v < c.num;
      case "<=": return v <= c.num;
      case ">": return v > c.num;
      case ">=": return v >= c.num;
      case "=": return v === c.num;
      default: return v !== c.num;
    }
  }

  function baseOf(key) {
    var m = /^(.+?)(_real_baseline|_baseline)$/.exec(key);
    return m ? m[1] : null;
  }

  function ordered(list, spec) {
    var out = list.slice().sort(function (a, b) { return cmp(field(a, "name"), field(b, "name")); });
    if (!spec) { return out; }
    var flip = spec[0] === "-";
    var key = spec.replace(/^[-+]+/, "").trim().toLowerCase();
    if (FIELDS.indexOf(key) >= 0) {
      return out.sort(function (a, b) { return flip ? cmp(field(b, key), field(a, key)) : cmp(field(a, key), field(b, key)); });
    }
    if (!Object.prototype.hasOwnProperty.call(directions, key)) {
      throw new QueryError("cannot sort on '" + key + "': it is neither a field nor a metric of any model");
    }
    var dir = directions[key] || directions[baseOf(key)] || "";
    var descending = (dir === "higher") !== flip;
    var present = out.filter(function (r) { return value(r, key) !== null; });
    var missing = out.filter(function (r) { return value(r, key) === null; });
    // ranked within each protocol, never across (as zoo list --sort): groups by size, then name
    var size = {};
    present.forEach(function (r) { var p = protocolOf(r, key); size[p] = (size[p] || 0) + 1; });
    present.sort(function (a, b) {
      var pa = protocolOf(a, key), pb = protocolOf(b, key);
      if (pa !== pb) { return (size[pb] - size[pa]) || cmp(pa, pb); }
      var d = value(a, key) - value(b, key); return descending ? -d : d;
    });
    return present.concat(missing);
  }

  function cmp(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }

  function readState() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var s = {};
    KEYS.forEach(function (k) { s[k] = params.get(k) || ""; });
    return s;
  }

  function sync(state) {
    KEYS.forEach(function (k) {
      var el = control[k];
      if (!el) { return; }
      if (el.tagName === "SELECT" && state[k] && !Array.prototype.some.call(el.options, function (o) { return o.value === state[k]; })) {
        var opt = document.createElement("option");
        opt.value = state[k]; opt.textContent = state[k];
        el.appendChild(opt);
      }
      el.value = state[k];
    });
  }

  function apply(state) {
    var problems = [];
    var conds = [];
    try { conds = parseWhere(state.where); } catch (e) { if (e instanceof QueryError) { problems.push(e.message); } else { throw e; } }
    var list;
    try { list = ordered(rows, state.sort); } catch (e) {
      if (!(e instanceof QueryError)) { throw e; }
      problems.push(e.message);
      list = ordered(rows, "");
    }
    var shown = 0;
    list.forEach(function (row) {
      var ok = ["task", "dataset", "arch"].every(function (k) { return !state[k] || row.getAttribute("data-" + k) === state[k]; })
        && conds.every(function (c) { return holds(row, c); });
      row.hidden = !ok;
      if (ok) { shown++; }
      tbody.appendChild(row);
    });
    var text = "Showing " + shown + " of " + rows.length + " models";
    if (state.sort) {
      var key = state.sort.replace(/^[-+]+/, "");
      var dir = directions[key] || directions[baseOf(key)];
      text += ", sorted by " + key + (dir ? (state.sort[0] === "-" ? " (worst first)" : " (best first: " + dir + " is better)") : (state.sort[0] === "-" ? " (descending)" : ""));
      var protos = [];
      list.forEach(function (r) { if (!r.hidden && value(r, key) !== null && protos.indexOf(protocolOf(r, key)) < 0) { protos.push(protocolOf(r, key)); } });
      if (protos.length > 1) { text += "; measured under " + protos.length + " protocols, ranked within each, never across (" + protos.join("; ") + ")"; }
    }
    status.textContent = text + ".";
    status.setAttribute("data-shown", String(shown));
    errorBox.textContent = problems.join(" ");
    errorBox.hidden = problems.length === 0;
  }

  function fromControls() {
    var params = new URLSearchParams();
    KEYS.forEach(function (k) { if (control[k] && control[k].value.trim()) { params.set(k, control[k].value.trim()); } });
    var h = params.toString();
    if (("#" + h) !== location.hash) { location.hash = h; } else { apply(readState()); }
  }

  KEYS.forEach(function (k) { if (control[k]) { control[k].addEventListener("change", fromControls); } });
  var form = document.getElementById("controls");
  form.addEventListener("submit", function (ev) { ev.preventDefault(); fromControls(); });
  window.addEventListener("hashchange", function () { var s = readState(); sync(s); apply(s); });
  var initial = readState();
  sync(initial);
  apply(initial);
  document.documentElement.setAttribute("data-catalog", "ready");
}());
