// Atoll's loader: the page's one inline script, small enough to cost
// nothing on the critical path. It fills a page's batched islands without
// waiting for htmx, which loads deferred and cached from its own URL.
//
// It fetches the batch URL the way the head's <link rel="preload"
// as="fetch" crossorigin="anonymous"> did ("cors", same-origin
// credentials), so the browser hands over the preloaded response, at once
// when that preload comes before it in the head, and reads the
// text/event-stream as it arrives: each message carries an <hx-partial>
// whose content replaces its placeholder (outerHTML), as htmx's SSE
// extension would, from the moment the page is parsed. Then, before any
// deferred script runs, it claims the page's batch element, so htmx never
// sends the batch request itself. Islands the stream did not deliver
// fetch themselves one by one once htmx runs.
//
// The runtime (htmx, its SSE extension, atoll.js) asks window.atollRuntime
// whether to start; the loader holds it until the batch stream has ended,
// so htmx starting up never keeps the main thread from swapping in an
// island that has arrived. A page without a batch starts it at once.
//
// Islands that came in the page's own response at the end of its body
// (behind an SSI edge, or rendered per request, with "edge: end") are
// swapped into their placeholders once the page is parsed.
//
// A boosted navigation never runs this again (htmx drops the new page's
// head), so htmx's SSE extension streams that page's batch, as before.
// No eval and no inline handlers; the CSP allows this script by its hash.
(function () {
  "use strict";

  var doc = document;
  // STALL is how long a batch stream may take in all, in ms: past every
  // island's deadline on the server.
  var STALL = 10000;

  // parsed settles when the body is parsed, before any deferred script
  // runs: islands are swapped in and the batch element claimed from then.
  var parsed = new Promise(function (resolve) {
    if (doc.readyState !== "loading") return resolve();
    doc.addEventListener("readystatechange", function once() {
      doc.removeEventListener("readystatechange", once);
      resolve();
    });
  });

  var held = null;
  var released = false;
  window.atollRuntime = function (run) {
    if (released) run();
    else held = run;
  };
  function release() {
    released = true;
    var run = held;
    held = null;
    if (run) run();
  }

  // process hands swapped-in content to htmx once it has loaded; before
  // that, htmx finds it when it processes the body at start.
  function process(el) {
    if (window.htmx && el.nodeType === 1) window.htmx.process(el);
  }

  function kids(t) { return Array.prototype.slice.call(t.content.childNodes); }

  function swapIn(html) {
    var t = doc.createElement("template");
    // The same rewrite htmx makes: a <template> parses any fragment
    // (rows, cells) where it stands.
    t.innerHTML = html.replace(/<hx-partial\b/g, "<template data-partial").replace(/<\/hx-partial>/g, "</template>");
    var parts = t.content.querySelectorAll("template[data-partial]");
    for (var i = 0; i < parts.length; i++) {
      var target = null;
      // A bad selector swaps nothing.
      try { target = doc.querySelector(parts[i].getAttribute("hx-target")); } catch (err) {}
      if (!target) continue;
      var nodes = kids(parts[i]);
      target.replaceWith.apply(target, nodes);
      nodes.forEach(process);
    }
  }

  // fallBack makes every batched island still waiting fetch itself: now,
  // if htmx has loaded, or when htmx processes the page.
  function fallBack() {
    var left = doc.querySelectorAll('.island[aria-busy="true"][data-batched]');
    for (var i = 0; i < left.length; i++) {
      left[i].removeAttribute("data-batched");
      left[i].setAttribute("hx-trigger", "load");
      if (window.htmx) window.htmx.process(left[i], true);
    }
  }

  // read parses an event stream (the WHATWG format, as the server writes
  // it) and swaps in each message's data when its blank line arrives.
  function read(res) {
    var type = res.headers.get("Content-Type") || "";
    if (!res.ok || !res.body || type.indexOf("text/event-stream") !== 0) throw new Error("batch answered " + res.status);
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buf = "";
    var data = [];
    var event = "";
    // Each message is swapped in its own microtask, as htmx does, so
    // what watches the page (a MutationObserver) sees them one by one,
    // in the order they arrived, even when one read brought several.
    var swaps = parsed;
    // A message that fails to swap does not stop the next one.
    function message(html) {
      swaps = swaps.then(function () { swapIn(html); }).then(null, function () {});
    }
    function line(l) {
      if (l === "") {
        if (data.length && (event === "" || event === "message")) message(data.join("\n"));
        data = [];
        event = "";
        return;
      }
      if (l.charAt(0) === ":") return;
      var i = l.indexOf(":");
      var field = i < 0 ? l : l.slice(0, i);
      var value = i < 0 ? "" : l.slice(l.charAt(i + 1) === " " ? i + 2 : i + 1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
    }
    function pump() {
      return reader.read().then(function (r) {
        buf += r.done ? decoder.decode() : decoder.decode(r.value, { stream: true });
        var lines = buf.split("\n");
        buf = r.done ? "" : lines.pop();
        lines.forEach(function (l) { line(l.replace(/\r$/, "")); });
        return r.done ? swaps : pump();
      });
    }
    return pump();
  }

  // stream fetches the batch URL and swaps in its islands; once it has
  // ended, broken or not, and the page is parsed, what it did not deliver
  // falls back and the runtime starts.
  function stream(url) {
    // A stream that stalls is given up after STALL ms: it is aborted,
    // so the islands it left fall back and no skeleton stays forever.
    var ctrl = new AbortController();
    var stall = setTimeout(function () { ctrl.abort(); }, STALL);
    fetch(url, { mode: "cors", credentials: "same-origin", signal: ctrl.signal })
      .then(read)
      // A broken or stalled stream: fall back below.
      .then(null, function () {})
      .then(function () { clearTimeout(stall); return parsed; })
      .then(fallBack)
      .then(release, release);
    // Someone reaching for the page does not wait for a slow stream.
    ["pointerdown", "keydown"].forEach(function (name) {
      window.addEventListener(name, release, { capture: true, once: true, passive: true });
    });
  }

  // The head's preload of the batch, placed before this script: reading
  // it now, while the body is still parsing, saves the wait for the
  // response to reach the page after parsing.
  var early = "";
  var links = doc.querySelectorAll('link[rel="preload"][as="fetch"]');
  for (var i = 0; i < links.length; i++) {
    var href = links[i].getAttribute("href") || "";
    if (/\/_islands\?b=/.test(href)) early = href;
  }
  if (early) stream(early);

  // start claims the page's batch element before htmx can see it (the
  // runtime waits for release), and streams it if no preload did.
  function start() {
    var batch = doc.getElementById("islands-batch");
    var url = batch && batch.getAttribute("hx-get");
    // A batch sent as a POST (a list too long for a URL) has no preload
    // to reuse: htmx sends it, as on a boosted navigation.
    if (!url || batch.getAttribute("hx-trigger") !== "load") {
      if (!early) release();
      return;
    }
    batch.removeAttribute("hx-trigger");
    batch.removeAttribute("hx-get");
    batch.setAttribute("data-claimed", "");
    if (url !== early) stream(url);
  }

  // fill swaps in the islands an edge (or the server, for a page rendered
  // per request) sent at the end of the body, each in a
  // <template data-atoll-fill="placeholder id">, before htmx runs. One
  // that holds no element (an edge that did not fill it) is left to
  // atoll.js, which has its placeholder fetch the island.
  function fill() {
    var fills = doc.querySelectorAll("template[data-atoll-fill]");
    for (var i = 0; i < fills.length; i++) {
      var target = doc.getElementById(fills[i].getAttribute("data-atoll-fill"));
      if (!target || !fills[i].content.firstElementChild) continue;
      fills[i].remove();
      target.replaceWith.apply(target, kids(fills[i]));
    }
  }

  parsed.then(fill).then(start, start);
})();
