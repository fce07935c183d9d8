// Verbatim's page script (a static file: no inline code, so a strict CSP can allow it).
// It only arranges what the server sent: it never builds text shown as an answer.
(function () {
  "use strict";
  if (window.__verbatim) return;
  window.__verbatim = true;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const narrow = () => window.matchMedia("(max-width: 800px)").matches;
  const smooth = () =>
    window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";

  // ---- Chat | Source switch (narrow screens) ------------------------------------------------
  let currentView = "chat";
  function setView(view) {
    currentView = view;
    const main = $("#vb-main");
    if (main) {
      main.classList.toggle("vb-view-source", view === "source");
      main.classList.toggle("vb-view-chat", view !== "source");
    }
    const chat = $("#vb-tab-chat"), source = $("#vb-tab-source");
    if (chat) chat.setAttribute("aria-selected", String(view !== "source"));
    if (source) source.setAttribute("aria-selected", String(view === "source"));
  }
  document.addEventListener("click", (ev) => {
    const tab = ev.target instanceof Element && ev.target.closest("#vb-tab-chat, #vb-tab-source");
    if (tab) setView(tab.id === "vb-tab-source" ? "source" : "chat");
  });
  setView("chat");

  // ---- Skip link: straight to the question box ----------------------------------------------
  document.addEventListener("click", (ev) => {
    const a = ev.target instanceof Element && ev.target.closest("a.vb-skip");
    if (!a) return;
    const box = $("#vb-question textarea");
    if (!box) return;
    ev.preventDefault();
    box.focus({ preventScroll: true });
    box.scrollIntoView({ block: "center", behavior: smooth() });
  }, true);

  // ---- "Show in source" ---------------------------------------------------------------------
  const CITE = /^#vb-cite-(\d{1,9}-\d{1,2})$/;
  let citeAsked = false, citeNonce = 0;
  document.addEventListener("click", (ev) => {
    const a = ev.target instanceof Element && ev.target.closest('a[href^="#vb-cite-"]');
    if (!a) return;
    const m = CITE.exec(a.getAttribute("href") || "");
    if (!m) return;
    ev.preventDefault();
    ev.stopPropagation();
    const box = $("#vb-cite-key textarea, #vb-cite-key input");
    if (!box) return;
    citeAsked = true;
    box.value = m[1] + "-" + (++citeNonce);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    if (narrow()) setView("source");
  }, true);

  function showCited() {
    const panel = $("#vb-source");
    const body = panel && $(".vb-source-body", panel);
    const mark = panel && $("mark.vb-cited", panel);
    if (!body || !mark) { if (body) body.scrollTop = 0; citeAsked = false; return; }
    const room = body.clientHeight - Math.min(mark.offsetHeight, body.clientHeight);
    body.scrollTo({ top: Math.max(0, mark.offsetTop - room / 2), behavior: smooth() });
    if (citeAsked) {
      // The person asked for this quote: bring the panel into view and focus the quote.
      const box = panel.getBoundingClientRect();
      if (box.bottom < 0 || box.top > window.innerHeight) panel.scrollIntoView({ block: "start" });
      mark.focus({ preventScroll: true });
    }
    citeAsked = false;
  }
  let lastView = null;
  function watchSource() {
    const view = $("#vb-source .vb-source")?.dataset.view || null;
    if (view !== lastView) { lastView = view; requestAnimationFrame(showCited); }
  }

  // ---- Chat: reading order, "new answer" cue, clean copies, readable labels ----------------
  const scroller = () => {
    const log = $('#vb-chat [role="log"]');
    let el = log;
    while (el && el !== document.body) {
      const s = getComputedStyle(el);
      if (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight) return el;
      el = el.parentElement;
    }
    return log;
  };
  const bots = () => $$('#vb-chat [data-testid="bot"]');
  const users = () => $$('#vb-chat [data-testid="user"]');
  let seenBots = 0, seenUsers = 0, cue = null;

  function ensureCue() {
    const sc = scroller();
    if (!sc) return null;
    if (cue && sc.contains(cue)) return cue;
    cue = document.createElement("button");
    cue.type = "button";
    cue.className = "vb-new-answer";
    cue.textContent = "New answer ↓";
    cue.hidden = true;
    cue.addEventListener("click", () => { cue.hidden = true; showLatest(true); });
    sc.appendChild(cue);
    return cue;
  }

  function inView(el, sc) {
    const r = el.getBoundingClientRect(), b = sc.getBoundingClientRect();
    return r.bottom > b.top + 8 && r.top < b.bottom - 8;
  }

  // Scroll the chat so the latest question is at its top (quote [1] follows right under it),
  // and the page so that the chat's top is on screen.
  function showLatest(force) {
    const sc = scroller();
    const q = users().at(-1);
    if (!sc || !q) return;
    const top = q.getBoundingClientRect().top - sc.getBoundingClientRect().top + sc.scrollTop;
    sc.scrollTo({ top: Math.max(0, top - 8), behavior: force ? smooth() : "auto" });
    const r = q.getBoundingClientRect();
    // Move the page only when the question, or the first lines of its answer, are off-screen.
    if (r.top < 0 || r.top + 220 > window.innerHeight) {
      q.scrollIntoView({ block: "start", behavior: "auto" });
    }
  }

  function readable(message) {
    const copy = $(".vb-copy[title]", message);
    if (copy) return copy.getAttribute("title");
    const content = $(".message-content", message) || message;
    return (content.innerText || content.textContent || "").trim();
  }

  function fixLabels() {
    for (const m of bots()) {
      const label = "Answer: " + readable(m);
      if (m.getAttribute("aria-label") !== label) m.setAttribute("aria-label", label);
      // Each status has its own look (CSS on data-vb-status), from the server's status marker.
      const marker = $(".vb-status-mark", m);
      const found = marker && /\bvb-status-(?!mark\b)([a-z_]+)/.exec(marker.className);
      const status = found ? found[1] : "other";
      if (m.dataset.vbStatus !== status) m.dataset.vbStatus = status;
    }
    for (const m of users()) {
      const label = "Your question: " + readable(m);
      if (m.getAttribute("aria-label") !== label) m.setAttribute("aria-label", label);
    }
  }

  function watchChat() {
    const nb = bots().length, nu = users().length;
    if (nb < seenBots || nu < seenUsers) { seenBots = nb; seenUsers = nu; if (cue) cue.hidden = true; }
    if (nu > seenUsers) { seenUsers = nu; showLatest(false); emptySent(); }   // a question was sent
    if (nb > seenBots) {
      seenBots = nb;
      const sc = scroller(), q = users().at(-1), c = ensureCue();
      // Reading near the latest question: show it with its answer. Scrolled away: a cue.
      if (sc && q && (inView(q, sc) || sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80)) {
        showLatest(false);
        if (c) c.hidden = true;
      } else if (c) {
        c.hidden = false;
      }
    }
    fixLabels();
  }

  // Copy: the answer's plain text (quotes and full citations, no markup).
  document.addEventListener("click", (ev) => {
    const btn = ev.target instanceof Element && ev.target.closest("#vb-chat button");
    if (!btn) return;
    const label = (btn.getAttribute("aria-label") || btn.title || "").toLowerCase();
    if (!label.startsWith("copy")) return;
    const row = btn.closest(".message-row, .bot-row, .user-row");
    const message = row && $('[data-testid="bot"], [data-testid="user"]', row);
    if (!message) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    const text = readable(message);
    const done = () => { btn.setAttribute("data-vb-copied", "1"); setTimeout(() => btn.removeAttribute("data-vb-copied"), 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, () => {});
    }
    window.__verbatimCopied = text;
  }, true);

  // ---- Question box: emptied once its question shows in the chat -----------------------------
  // The server never empties the box (an answer arriving must not erase what is being typed):
  // the text sent is remembered here, and the box is emptied when that question appears in
  // the chat and the box still holds exactly it. Another message appearing meanwhile (an
  // example clicked just before) does not count: emptying the box then could also empty what
  // Gradio reads for the question a moment later, and the question would arrive empty.
  let sentText = null, sentSeen = 0;
  const questionBox = () => $("#vb-question textarea");
  // What is compared: letters and digits only (the chat shows the question escaped, its
  // control characters as U+FFFD, its whitespace folded); all of it if it has none.
  function key(text) {
    const s = String(text).normalize("NFC").toLowerCase();
    const words = s.replace(/[^\p{L}\p{N}]+/gu, "");
    return words || s.replace(/\s+/g, " ").trim();
  }
  const shown = (text) => users().filter((m) => key(readable(m)) === key(text)).length;
  function remember() {
    const box = questionBox();
    const limit = Number($("#vb-counter-row .vb-counter")?.dataset.limit) || Infinity;
    // A question over the limit is not sent (the server says so): it stays.
    if (box && box.value.trim() && box.value.length <= limit) {
      sentText = box.value;
      sentSeen = shown(sentText);  // the same question asked before is already in the chat
    }
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && ev.target instanceof Element && ev.target.closest("#vb-question")) remember();
  }, true);
  document.addEventListener("click", (ev) => {
    if (ev.target instanceof Element && ev.target.closest("#vb-ask")) remember();
  }, true);
  function emptySent() {
    const box = questionBox();
    if (!box || sentText === null) return;
    const last = users().at(-1);
    const arrived = (last && key(readable(last)) === key(sentText)) || shown(sentText) > sentSeen;
    if (!arrived) return;  // another message (an example): the question is still on its way
    if (box.value === sentText) {
      box.value = "";
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
    sentText = null;
  }

  // ---- Question box: visible limit and counter ----------------------------------------------
  function updateCounter() {
    const box = $("#vb-question textarea");
    const counter = $("#vb-counter-row .vb-counter");
    if (!box || !counter) return;
    const limit = Number(counter.dataset.limit) || 0;
    const n = box.value.length;
    const over = limit && n > limit;
    const text = over
      ? `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters: ${(n - limit).toLocaleString("en")} too many`
      : `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters`;
    if (counter.textContent !== text) counter.textContent = text;
    if (counter.classList.contains("vb-over") !== Boolean(over)) counter.classList.toggle("vb-over", Boolean(over));
  }
  document.addEventListener("input", (ev) => {
    if (ev.target instanceof Element && ev.target.closest("#vb-question")) updateCounter();
  });

  // ---- One observer for everything the server re-renders -------------------------------------
  let queued = false;
  const tick = () => {
    queued = false;
    const main = $("#vb-main");
    if (main && !main.classList.contains("vb-view-" + currentView)) setView(currentView);
    watchSource();
    watchChat();
    updateCounter();
  };
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(tick); }
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
