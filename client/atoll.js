// Atoll's client: no island keeps its skeleton forever.
//
// 1. When an island request fails without an answer (network error or
//    htmx timeout), the island becomes the same error state the server
//    sends for a failed render: a message and a Retry button.
// 2. When a page's batch stream ends, islands it did not deliver fetch
//    themselves one by one.
// 3. Focus survives a swap: when an island that holds the focus is
//    replaced (the account island after Sign in or Sign out, the cart
//    after Remove), focus moves to the control at the same place in the
//    new island, or to the island itself, not to <body>. Islands a
//    boosted page brought at the end of its body (edge: end) are swapped
//    into their placeholders.
// 4. Island requests go out in "cors" mode, so the browser hands them the
//    response of the page's <link rel="preload" as="fetch"
//    crossorigin="anonymous">, which started while this script loaded
//    (htmx's own "same-origin" mode never matches a preload).
// 5. Every action request carries an Idempotency-Key: a fresh one for each
//    submission, the same one when that submission is sent again after
//    it got no definitive answer (a network error, a timeout, a 5xx, a
//    409), so the server applies it once and answers a repeat with the
//    first answer.
//
// Served after htmx and its SSE extension (package client), so it runs
// under script-src 'self'; it uses no eval and no inline handlers.
(function () {
  "use strict";

  var REQUEST_ATTRS = ["hx-get", "hx-post", "hx-vals"];

  function errorState(source, message) {
    var island = source.closest(".island");
    if (!island || !island.isConnected) return;
    var name = island.getAttribute("data-island") || "";
    var box = document.createElement("div");
    box.className = "island island--error" + (name ? " island--" + name : "");
    if (name) box.setAttribute("data-island", name);
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.className = "island-message";
    text.textContent = message;
    box.appendChild(text);
    if (REQUEST_ATTRS.some(function (a) { return source.hasAttribute(a); })) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "retry";
      retry.textContent = "Retry";
      REQUEST_ATTRS.forEach(function (a) {
        if (source.hasAttribute(a)) retry.setAttribute(a, source.getAttribute(a));
      });
      retry.setAttribute("hx-target", "closest .island");
      retry.setAttribute("hx-swap", "outerHTML");
      box.appendChild(retry);
    }
    island.replaceWith(box);
    htmx.process(box);
  }

  function fallBack() {
    document.querySelectorAll('.island[aria-busy="true"][data-batched]').forEach(function (el) {
      el.removeAttribute("data-batched"); // once: a later end-of-stream event must not fetch it again
      htmx.trigger(el, "atoll:fallback");
    });
  }

  function isBatch(el) {
    return el instanceof Element && el.classList.contains("islands-batch");
  }

  document.addEventListener("htmx:error", function (e) {
    var source = e.target;
    if (isBatch(source)) { fallBack(); return; }
    if (!(source instanceof Element)) return;
    var timedOut = e.detail && e.detail.error === "timeout";
    var message = timedOut ? "The server took too long to answer." : "Could not reach the server.";
    // Only an island's own request (its placeholder, its refreshing root,
    // its Retry button) turns the island into the error state. A form or
    // link inside an island reports in its own message slot instead.
    if (source.matches(".island[data-island], .island > .retry")) {
      errorState(source, message);
      return;
    }
    var slot = source.querySelector && source.querySelector(".form-message");
    if (slot) slot.textContent = message;
  });

  // Focus across swaps. Before a swap that an island's own request makes
  // (its refresh, its Retry), remember where the focus sits in it; after,
  // if the focus was lost with the old markup, put it back at the same
  // place: the same control by position, the last one when there are
  // fewer, or the island itself when it has none.
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled])";
  var focusPlans = new Map();
  document.addEventListener("htmx:before:swap", function (e) {
    var source = e.target;
    var active = document.activeElement;
    if (!(source instanceof Element) || !active || active === document.body) return;
    var island = source.closest(".island");
    if (!island || !island.contains(active)) return;
    var controls = Array.prototype.slice.call(island.querySelectorAll(FOCUSABLE));
    var key = (e.detail && e.detail.ctx) || source;
    focusPlans.set(key, {parent: island.parentElement, next: island.nextSibling, index: controls.indexOf(active)});
  });
  document.addEventListener("htmx:after:swap", function (e) {
    var key = (e.detail && e.detail.ctx) || e.target;
    var plan = focusPlans.get(key);
    focusPlans.delete(key);
    var active = document.activeElement;
    if (!plan || (active && active !== document.body && active.isConnected)) return;
    var island = plan.next && plan.next.parentNode === plan.parent ? plan.next.previousElementSibling : plan.parent.lastElementChild;
    if (!island || !island.classList.contains("island")) return;
    var controls = island.querySelectorAll(FOCUSABLE);
    if (controls.length > 0 && plan.index >= 0) {
      controls[Math.min(plan.index, controls.length - 1)].focus();
      return;
    }
    island.setAttribute("tabindex", "-1");
    island.focus();
  });

  // Only same-origin requests to the island endpoints change mode: for a
  // same-origin URL "cors" sends the same cookies and reads the same
  // response, and everything else keeps htmx's mode.
  var ISLAND_PATH = /\/_islands(\/[a-z0-9-]+)?$/;
  document.addEventListener("htmx:config:request", function (e) {
    var req = e.detail && e.detail.ctx && e.detail.ctx.request;
    if (!req || (req.method || "").toUpperCase() !== "GET") return;
    var url;
    try { url = new URL(req.action, document.baseURI); } catch (err) { return; }
    if (url.origin === location.origin && ISLAND_PATH.test(url.pathname)) req.mode = "cors";
  });

  // Islands a page brought at the end of its body (edge: end), when the
  // loader did not swap them in: a boosted navigation swaps in a page's
  // body without running its head. One without an element falls back.
  function fill() {
    document.querySelectorAll("template[data-atoll-fill]").forEach(function (t) {
      var target = document.getElementById(t.getAttribute("data-atoll-fill"));
      t.remove();
      if (!target) return;
      var nodes = Array.prototype.slice.call(t.content.childNodes);
      if (!nodes.some(function (n) { return n.nodeType === 1; })) {
        target.removeAttribute("data-batched");
        htmx.trigger(target, "atoll:fallback");
        return;
      }
      target.replaceWith.apply(target, nodes);
      nodes.forEach(function (n) { if (n.nodeType === 1) htmx.process(n); });
    });
  }
  document.addEventListener("htmx:after:swap", fill);
  fill();

  // Idempotency keys, by the element that sends the action: its key and
  // the body it was made for. A submission with another body (the visitor
  // changed the form) is another submission and gets a fresh key.
  var ACTION_PATH = /\/actions\/[a-z0-9][a-z0-9\/-]*$/;
  var keys = new WeakMap();

  function newKey() {
    var b = new Uint8Array(16); // 128 random bits; randomUUID needs a secure context
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function bodyOf(body) {
    if (!body || typeof body.forEach !== "function") return "";
    var parts = [];
    body.forEach(function (v, k) { parts.push(k + "=" + (typeof v === "string" ? v : "[file " + (v && v.name) + "]")); });
    return parts.join("&");
  }

  document.addEventListener("htmx:config:request", function (e) {
    var ctx = e.detail && e.detail.ctx;
    var req = ctx && ctx.request;
    if (!req || (req.method || "").toUpperCase() !== "POST") return;
    var url;
    try { url = new URL(req.action, document.baseURI); } catch (err) { return; }
    if (url.origin !== location.origin || !ACTION_PATH.test(url.pathname)) return;
    var el = ctx.sourceElement || e.target;
    var body = bodyOf(req.body);
    var held = keys.get(el);
    if (!held || held.body !== body) {
      held = { key: newKey(), body: body };
      keys.set(el, held);
    }
    req.headers["Idempotency-Key"] = held.key;
    ctx.atollKey = held;
  });

  // A definitive answer ends the submission: its key is not sent again.
  // Without one (htmx:error fires instead), or with a status saying the
  // server could not finish (5xx) or is still at it (409), the key stays
  // for the next attempt.
  document.addEventListener("htmx:after:request", function (e) {
    var ctx = e.detail && e.detail.ctx;
    if (!ctx || !ctx.atollKey || !ctx.response) return;
    var status = ctx.response.status;
    if (status >= 500 || status === 409) return;
    var el = ctx.sourceElement;
    if (el && keys.get(el) === ctx.atollKey) keys.delete(el);
  });

  // The batch stream ended, broke or was cut: whatever it did not deliver
  // is fetched on its own.
  ["htmx:finally:request", "htmx:sse:close", "htmx:sse:error"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      if (isBatch(e.target)) fallBack();
    });
  });
})();
