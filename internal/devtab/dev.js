// Atoll dev (atoll dev only): keeps this tab current while the site's files change.
// A reload event reloads the tab, unless the page no longer renders: then its error shows over the tab, which keeps
// its state. A style event swaps one stylesheet in place. A problem event shows a failed build or start over the tab.
(() => {
  if (window.atollDevReload) return;
  const script = document.currentScript;
  const base = script.dataset.base || "";
  let version = script.dataset.version;
  const events = new EventSource(script.dataset.events);
  window.atollDevReload = events;
  // The page's own problem (this document is a dev error page) and the loop's (a build or a start that failed).
  const embedded = document.getElementById("atoll-dev-problem");
  let pageProblem = embedded ? JSON.parse(embedded.textContent) : null;
  let loopProblem = null;
  let host = null;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const render = () => {
    const p = loopProblem || pageProblem;
    window.atollDevProblem = p;
    if (!p) {
      if (host) host.remove();
      host = null;
      return;
    }
    if (!host) {
      host = el("div");
      host.id = "atoll-dev-overlay";
      host.attachShadow({ mode: "open" });
    }
    const root = host.shadowRoot;
    root.replaceChildren();
    const css = el("link");
    css.rel = "stylesheet";
    css.href = base + "/_atoll/dev.css";
    const box = el("section", "overlay");
    box.hidden = true; // until its stylesheet is in
    css.addEventListener("load", () => { box.hidden = false; });
    box.setAttribute("role", "alert");
    box.dataset.kind = p.kind;
    const panel = el("div", "panel");
    panel.append(el("p", "title", p.title));
    if (p.file) panel.append(el("p", "file", p.file + (p.line ? ":" + p.line + (p.column ? ":" + p.column : "") : "")));
    panel.append(el("pre", "message", p.message));
    if (p.frame && p.frame.length) {
      const pre = el("pre", "frame");
      for (const l of p.frame) {
        const row = el("span", l.n === p.line ? "line at" : "line");
        row.append(el("span", "n", String(l.n)), el("span", "code", l.text));
        pre.append(row);
        if (l.n === p.line && p.column) {
          const caret = el("span", "line caret");
          caret.append(el("span", "n", ""), el("span", "code", " ".repeat(Math.max(0, p.column - 1)) + "^"));
          pre.append(caret);
        }
      }
      panel.append(pre);
    }
    if (p.more && p.more.length) panel.append(el("pre", "more", p.more.join("\n")));
    panel.append(el("p", "hint", p.kind === "startup"
      ? "The server that was running keeps serving. Saving a fix clears this."
      : p.kind === "build" ? "The server that was running keeps serving. Saving a fix clears this." : "Saving a fix clears this."));
    box.append(panel);
    root.append(css, box);
    if (!host.isConnected) document.documentElement.append(host);
  };

  // broken looks at the page before a reload: when it does not render, its error shows over the tab.
  const broken = async () => {
    try {
      const r = await fetch(location.href, { headers: { "X-Atoll-Dev-Probe": "1" }, cache: "no-store", credentials: "same-origin" });
      if (r.headers.get("X-Atoll-Dev-Error")) {
        const doc = new DOMParser().parseFromString(await r.text(), "text/html");
        const p = doc.getElementById("atoll-dev-problem");
        if (p) {
          pageProblem = JSON.parse(p.textContent);
          render();
          return true;
        }
      }
    } catch (e) {
      // No answer to look at: reload anyway.
    }
    return false;
  };

  // reload reloads the tab once the page renders; while it does not, its error shows over the tab instead. Reloads
  // asked for while it looks (one save that reached the loop as two changes, a busy machine) make it look again,
  // then navigate once: a navigation that a second one cut short would still cost the server a page view.
  let looking = false, again = false;
  const reload = async () => {
    if (looking) {
      again = true;
      return;
    }
    looking = true;
    let bad;
    try {
      do {
        again = false;
        bad = await broken();
      } while (again);
    } finally {
      looking = false;
    }
    if (bad) return;
    events.close();
    location.reload();
  };

  // style swaps the elements that bring file (an inlined <style> or a <link>) for one link to its current text, and
  // drops them once the new one has loaded, so the page never shows unstyled. Saves in quick succession each add a
  // link, numbered; the one that loads drops every older one, so whatever order they load in, one is left.
  const styleGen = {};
  const style = (file, v) => {
    const mine = () => [...document.querySelectorAll("[data-atoll-asset]")].filter((e) => e.dataset.atollAsset === file);
    const olds = mine();
    if (!olds.length) return false;
    const gen = (styleGen[file] = (styleGen[file] || 0) + 1);
    const link = el("link");
    link.rel = "stylesheet";
    link.href = base + "/_atoll/dev/style/" + file + "?v=" + encodeURIComponent(v);
    link.dataset.atollAsset = file;
    link.dataset.atollGen = gen;
    link.addEventListener("load", () => {
      if (!link.isConnected) return; // a newer one loaded first and dropped it
      for (const e of mine()) if (Number(e.dataset.atollGen || 0) < gen) e.remove();
      window.atollDevStyled = (window.atollDevStyled || 0) + 1;
    });
    link.addEventListener("error", () => reload());
    olds[olds.length - 1].after(link);
    return true;
  };

  events.addEventListener("hello", (e) => {
    const d = JSON.parse(e.data);
    loopProblem = d.problem || null;
    render();
    if (d.version !== version && !loopProblem) reload();
  });
  events.addEventListener("reload", (e) => {
    loopProblem = null;
    version = JSON.parse(e.data).version;
    reload();
  });
  events.addEventListener("style", (e) => {
    const d = JSON.parse(e.data);
    if (pageProblem || !style(d.file, d.version)) {
      version = d.version;
      reload();
      return;
    }
    version = d.version;
  });
  events.addEventListener("problem", (e) => {
    loopProblem = JSON.parse(e.data);
    render();
  });
  render();
})();
