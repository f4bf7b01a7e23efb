// Orbitask support portal: the new-ticket page. It keeps the draft on this
// device, suggests articles while the customer types and reveals the rest of
// the form on request. The page works without this script, as a plain form.
// A ticket's own page has its script in ticketpage.js; what both need is in
// app.js (window.Orbitask).
(function () {
  "use strict";

  var DRAFT_KEY = "orbitask.ticketDraft";
  var CONTACT_KEY = "orbitask.contact"; // kept only when the customer asks
  var CONTACT_FIELDS = ["name", "company", "phone", "email"];
  var DRAFT_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
  var SUGGEST_DEBOUNCE_MS = 150;
  var SAVE_DEBOUNCE_MS = 400;
  var CONNECT_WAIT_MS = 1000; // how long a draft waits for a connecting socket
  var MAX_SUGGESTIONS = 5;

  // Languages are named in themselves, whatever the page's language.
  var LANG_NAMES = { en: "English", de: "Deutsch", fr: "Français", cs: "Čeština" };

  // The page's words and language, from app.js (loaded first, by the
  // layout): t(key, args) and tn(key, n, args) for plurals.
  var t = window.Orbitask.t;
  var tn = window.Orbitask.tn;
  var pageLang = window.Orbitask.lang;
  // el and Backoff (reconnection delays) are app.js's too.
  var el = window.Orbitask.el;
  var Backoff = window.Orbitask.Backoff;

  // ---- helpers ----

  // appendSnippet is app.js's (loaded first, by the layout): one place
  // turns a server snippet into text nodes and <mark> elements.
  var appendSnippet = window.Orbitask.appendSnippet;

  // safeURL allows only http(s) links (relative ones included).
  function safeURL(u) {
    try {
      var parsed = new URL(String(u), window.location.href);
      if (parsed.protocol === "http:" || parsed.protocol === "https:") {
        return String(u); // as the server wrote it, e.g. "/kb/en/backup"
      }
    } catch (e) {
      // fall through
    }
    return "#";
  }

  function langName(code) {
    if (!code) {
      return "";
    }
    var base = String(code).toLowerCase().split(/[-_]/)[0];
    return LANG_NAMES[base] ? LANG_NAMES[base] + (base === code ? "" : " (" + code + ")") : code;
  }

  // inLang says, in the page's language, that a suggestion is in another
  // language ("in English"): a fallback hit.
  function inLang(code) {
    var key = "in_lang." + String(code).toLowerCase().split(/[-_]/)[0];
    var text = t(key);
    return text !== key ? text : t("in_lang.other", { language: langName(code) });
  }

  function postJSON(url, data, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data || {}),
    }).then(function (res) {
      if (!res.ok) {
        throw new Error(url + ": " + res.status);
      }
      return res;
    });
  }


  var storage = {
    get: function () {
      try {
        var raw = window.localStorage.getItem(DRAFT_KEY);
        var d = raw ? JSON.parse(raw) : null;
        if (!d || typeof d !== "object") {
          return null;
        }
        if (d.saved && Date.now() - d.saved > DRAFT_MAX_AGE_MS) {
          window.localStorage.removeItem(DRAFT_KEY);
          return null;
        }
        return d;
      } catch (e) {
        return null;
      }
    },
    set: function (d) {
      try {
        window.localStorage.setItem(DRAFT_KEY, JSON.stringify(d));
      } catch (e) {
        // storage full or disabled: the draft just does not survive a reload
      }
    },
    clear: function () {
      try {
        window.localStorage.removeItem(DRAFT_KEY);
      } catch (e) {
        // ignore
      }
    },
  };

  // rememberContact offers to keep the contact details on this device, so
  // that a second ticket needs only the problem. Nothing is stored unless
  // the box is checked when the form is sent; "Forget them" clears both the
  // storage and the fields.
  function rememberContact(form) {
    var box = document.getElementById("remember");
    var check = document.getElementById("remember-contact");
    var forget = document.getElementById("forget-contact");
    var status = document.getElementById("remember-status");
    var fields = CONTACT_FIELDS.map(function (name) {
      return form.querySelector("#" + name);
    });
    if (!box || !check || !forget || fields.indexOf(null) >= 0) {
      return;
    }
    try {
      window.localStorage.getItem(CONTACT_KEY); // throws when storage is off
    } catch (e) {
      return; // nothing to remember with: the offer stays hidden
    }
    box.hidden = false;

    var kept = null;
    try {
      kept = JSON.parse(window.localStorage.getItem(CONTACT_KEY) || "null");
    } catch (e) {
      kept = null;
    }
    if (kept && typeof kept === "object") {
      fields.forEach(function (f) {
        // A form sent back keeps what the customer just typed.
        if (!f.value && typeof kept[f.id] === "string") {
          f.value = kept[f.id];
        }
      });
      check.checked = true;
      forget.hidden = false;
    }

    forget.addEventListener("click", function () {
      try {
        window.localStorage.removeItem(CONTACT_KEY);
      } catch (e) {
        // already unreachable
      }
      fields.forEach(function (f) {
        f.value = "";
      });
      check.checked = false;
      forget.hidden = true;
      check.focus(); // the button is gone
      if (status) {
        status.textContent = t("new_ticket.remember.forgotten");
      }
    });

    // On sending: keep the details when asked, else keep nothing.
    return function save() {
      try {
        if (check.checked) {
          var data = {};
          fields.forEach(function (f) {
            data[f.id] = f.value;
          });
          window.localStorage.setItem(CONTACT_KEY, JSON.stringify(data));
        } else {
          window.localStorage.removeItem(CONTACT_KEY);
        }
      } catch (e) {
        // storage full or off: the next form starts empty
      }
    };
  }

  function wsBase() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
  }

  // ---- the new-ticket page ----

  function TicketDraft(form) {
    var subject = form.querySelector("#subject");
    var description = form.querySelector("#description");
    var details = document.getElementById("ticket-details");
    var continueButton = document.getElementById("continue");
    var panel = document.getElementById("suggestions");
    var jump = document.getElementById("suggestions-jump");
    if (!subject || !description || !details || !continueButton || !panel) {
      return;
    }
    var sessionInput = form.querySelector('input[name="deflection_session"]');
    var langSelect = form.querySelector('select[name="lang"]');
    var hint = document.getElementById("suggestions-hint");
    var draftStatus = document.getElementById("draft-status");
    var summary = document.getElementById("error-summary");
    var hasErrors = form.hasAttribute("data-has-errors") || !!summary;

    var session = sessionInput ? sessionInput.value : "";
    var continued = false;
    var done = false; // solved: nothing more to send

    // Draft persistence.
    var saveTimer = 0;
    var dirty = false; // changed since the last save: another tab's draft is not ours to overwrite
    function saveNow() {
      clearTimeout(saveTimer);
      if (done || !dirty) {
        return;
      }
      dirty = false;
      if (!subject.value.trim() && !description.value.trim()) {
        storage.clear();
        return;
      }
      storage.set({
        subject: subject.value,
        description: description.value,
        session: session || undefined,
        continued: continued || undefined,
        saved: Date.now(),
      });
    }
    function scheduleSave() {
      dirty = true;
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveNow, SAVE_DEBOUNCE_MS);
    }

    var saved = storage.get();
    if (saved && !subject.value && !description.value && (saved.subject || saved.description)) {
      subject.value = saved.subject || "";
      description.value = saved.description || "";
      if (!session && saved.session) {
        session = String(saved.session);
      }
      continued = !!saved.continued;
      if (draftStatus) {
        draftStatus.textContent = t("new_ticket.draft.restored");
      }
    }
    if (sessionInput && session) {
      sessionInput.value = session;
    }

    // The rest of the form waits behind "continue", unless the server sent
    // the form back with errors. The server sends it hidden already (no
    // layout shift); a draft restored after "continue" shows it again.
    function reveal(focus) {
      continueButton.setAttribute("aria-expanded", "true");
      continueButton.hidden = true;
      if (details.hidden) {
        details.hidden = false;
      }
      if (focus) {
        var first =
          details.querySelector('input[type="radio"]:checked') ||
          details.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
        (first || details).focus();
      }
    }
    function continueToForm() {
      var wasHidden = details.hidden;
      if (session && wasHidden) {
        postJSON("/api/deflect/" + encodeURIComponent(session) + "/continued", {}, true).catch(function () {});
      }
      continued = true;
      dirty = true;
      saveNow();
      reveal(true);
    }
    if (hasErrors || continued) {
      reveal(false);
      if (summary) {
        summary.focus();
      }
    } else {
      details.hidden = true;
      continueButton.hidden = false;
    }
    continueButton.addEventListener("click", continueToForm);

    if (hint) {
      hint.textContent = t("new_ticket.suggestions.hint");
    }

    // Suggestions, over a WebSocket with HTTP as the fallback.
    var ws = null;
    var wsTimer = 0;
    var backoff = new Backoff();
    var sent = 0; // query_id of the newest draft sent
    var pending = 0; // query_id awaiting an answer, 0 if none
    var queued = false; // a draft waits for the socket to open
    var queuedTimer = 0;
    var typingTimer = 0;
    var controller = null;
    var shownKey = "";

    // The ticket's language if the customer chose one, else the page's:
    // suggestions in it come first, then those of its fallback language.
    function currentLang() {
      var v = langSelect ? langSelect.value : "";
      return v && v !== "other" ? v : pageLang;
    }

    function draftMessage() {
      sent++;
      return {
        type: "draft",
        session: session || undefined,
        subject: subject.value,
        body: description.value,
        lang: currentLang(),
        query_id: sent,
      };
    }

    function isEmptyDraft() {
      return !subject.value.trim() && !description.value.trim();
    }

    function suggest() {
      clearTimeout(typingTimer);
      if (done) {
        return;
      }
      if (isEmptyDraft()) {
        sent++; // answers still on the way are stale now
        pending = 0;
        show([]);
        return;
      }
      if (ws && ws.readyState === WebSocket.OPEN) {
        sendOverSocket();
      } else if (ws && ws.readyState === WebSocket.CONNECTING) {
        queued = true;
        clearTimeout(queuedTimer);
        queuedTimer = setTimeout(function () {
          if (queued) {
            queued = false;
            sendOverHTTP(draftMessage());
          }
        }, CONNECT_WAIT_MS);
      } else {
        sendOverHTTP(draftMessage());
      }
    }

    function sendOverSocket() {
      var msg = draftMessage();
      try {
        ws.send(JSON.stringify(msg));
        pending = msg.query_id;
      } catch (e) {
        sendOverHTTP(msg);
      }
    }

    function sendOverHTTP(msg) {
      if (controller) {
        controller.abort();
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      pending = msg.query_id;
      fetch("/api/deflect", {
        method: "POST",
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(msg),
      })
        .then(function (res) {
          if (!res.ok) {
            if (msg.query_id === pending) {
              pending = 0;
            }
            failed(res.status, msg.query_id);
            return null;
          }
          return res.json();
        })
        .then(function (data) {
          if (!data) {
            return;
          }
          if (typeof data.query_id !== "number") {
            data.query_id = msg.query_id;
          }
          receive(data);
        })
        .catch(function () {
          // No suggestions this time; the next pause in typing tries again.
        });
    }

    // forgetSession drops a session the server no longer knows or has
    // ended (a draft kept for days): the next draft starts a new one.
    function forgetSession() {
      session = "";
      if (sessionInput) {
        sessionInput.value = "";
      }
      scheduleSave();
    }

    function failed(status, queryID) {
      if ((status === 404 || status === 409) && session) {
        forgetSession();
        if (ws) {
          // A new connection: the old one may remember the dead session.
          var sock = ws;
          ws = null;
          sock.close();
          reconnectLater();
        }
        if (queryID === sent) {
          suggest(); // the newest draft again, without the dead session
        }
      }
    }

    function receive(data) {
      if (!data || typeof data !== "object" || done) {
        return;
      }
      if (data.type === "error") {
        if (typeof data.query_id !== "number" || data.query_id >= sent) {
          pending = 0;
        }
        failed(Number(data.status), data.query_id);
        return;
      }
      if (data.type && data.type !== "suggestions") {
        return;
      }
      if (data.session && data.session !== session) {
        session = String(data.session);
        if (sessionInput) {
          sessionInput.value = session;
        }
        scheduleSave();
      }
      if (typeof data.query_id === "number" && data.query_id < sent) {
        return; // an answer to an older draft
      }
      pending = 0;
      show(Array.isArray(data.suggestions) ? data.suggestions : []);
    }

    function connect() {
      clearTimeout(wsTimer);
      if (done || typeof WebSocket !== "function") {
        return;
      }
      var sock;
      try {
        sock = new WebSocket(wsBase() + "/api/deflect/ws");
      } catch (e) {
        reconnectLater();
        return;
      }
      ws = sock;
      sock.addEventListener("open", function () {
        if (ws !== sock) {
          return;
        }
        if (queued) {
          queued = false;
          clearTimeout(queuedTimer);
          sendOverSocket();
        }
      });
      sock.addEventListener("message", function (e) {
        if (ws !== sock) {
          return;
        }
        backoff.reset();
        var data;
        try {
          data = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        receive(data);
      });
      sock.addEventListener("close", function (e) {
        if (ws !== sock) {
          return;
        }
        ws = null;
        if (done) {
          return;
        }
        // Whatever the socket still owed us, ask over HTTP.
        if (queued || pending) {
          queued = false;
          clearTimeout(queuedTimer);
          if (!isEmptyDraft()) {
            sendOverHTTP(draftMessage());
          }
        }
        reconnectLater(e.code);
      });
    }

    function reconnectLater(code) {
      clearTimeout(wsTimer);
      if (!done) {
        wsTimer = setTimeout(connect, backoff.afterClose(code));
      }
    }

    function opened(id) {
      if (session) {
        postJSON("/api/deflect/" + encodeURIComponent(session) + "/opened", { article: id }, true).catch(function () {});
      }
    }

    function show(list) {
      list = list.slice(0, MAX_SUGGESTIONS);
      var key = JSON.stringify(
        list.map(function (s) {
          return [s.id, s.title, s.snippet, s.lang, !!s.fallback];
        })
      );
      if (key === shownKey) {
        return; // unchanged: do not make screen readers repeat it
      }
      shownKey = key;
      showJump(list.length);
      panel.textContent = "";
      if (!list.length) {
        if (!isEmptyDraft()) {
          panel.appendChild(el("p", "suggestions__empty", t("new_ticket.suggestions.none")));
        }
        return;
      }
      panel.appendChild(el("p", "suggestions__count", tn("new_ticket.suggestions.count", list.length)));
      var ol = el("ol", "suggestions__list");
      list.forEach(function (s, i) {
        var li = el("li", "suggestion");
        var title = el("h3", "suggestion__title");
        var a = el("a", "suggestion__link", s.title || t("new_ticket.suggestions.untitled"));
        a.id = "suggestion-" + i;
        a.href = safeURL(s.url);
        a.target = "_blank";
        a.rel = "noopener";
        if (s.lang) {
          a.hreflang = s.lang;
        }
        if (s.fallback && s.lang) {
          li.lang = s.lang; // the article's words; the badge says which language
        }
        a.appendChild(el("span", "visually-hidden", " " + t("new_ticket.suggestions.new_tab")));
        a.addEventListener("click", function () {
          opened(s.id);
        });
        a.addEventListener("auxclick", function (e) {
          if (e.button === 1) {
            opened(s.id);
          }
        });
        title.appendChild(a);
        li.appendChild(title);
        if (s.snippet) {
          var snippet = el("p", "suggestion__snippet");
          appendSnippet(snippet, s.snippet);
          li.appendChild(snippet);
        }
        var meta = el("p", "suggestion__meta");
        if (s.category) {
          meta.appendChild(el("span", "suggestion__category", String(s.category)));
        }
        if (s.lang) {
          if (s.category) {
            meta.appendChild(document.createTextNode(" · "));
          }
          var lang;
          if (s.fallback) {
            lang = el("span", "lang-badge", inLang(s.lang));
            lang.lang = pageLang;
          } else {
            lang = el("span", "suggestion__lang", langName(s.lang));
            lang.lang = s.lang;
          }
          meta.appendChild(lang);
        }
        if (meta.childNodes.length) {
          li.appendChild(meta);
        }
        var solvedButton = el("button", "button suggestion__solved", t("new_ticket.suggestions.solved_button"));
        solvedButton.type = "button";
        solvedButton.setAttribute("aria-describedby", a.id);
        solvedButton.addEventListener("click", function () {
          solve(s, solvedButton, li);
        });
        li.appendChild(solvedButton);
        ol.appendChild(li);
      });
      panel.appendChild(ol);
    }

    // showJump writes the count under the description, with a link down to
    // the suggestions: on a phone they are out of sight while typing.
    function showJump(n) {
      if (!jump) {
        return;
      }
      jump.textContent = "";
      if (!n) {
        return;
      }
      var a = el("a", "suggestions-jump__link", tn("new_ticket.suggestions.jump", n));
      a.href = "#suggestions-panel";
      a.appendChild(document.createTextNode(" "));
      a.appendChild(el("span", null, "↓")).setAttribute("aria-hidden", "true");
      jump.appendChild(a);
    }

    function solve(s, button, li) {
      button.disabled = true;
      var old = li.querySelector(".suggestion__error");
      if (old) {
        old.remove();
      }
      var finishWith = function () {
        finish(s);
      };
      if (!session) {
        finishWith();
        return;
      }
      postJSON("/api/deflect/" + encodeURIComponent(session) + "/solved", { article: s.id })
        .then(finishWith)
        .catch(function () {
          button.disabled = false;
          var msg = el("p", "suggestion__error", t("new_ticket.suggestions.error"));
          msg.setAttribute("role", "alert");
          li.appendChild(msg);
        });
    }

    // finish replaces the form with thanks once an article solved the problem.
    function finish(s) {
      done = true;
      clearTimeout(typingTimer);
      clearTimeout(saveTimer);
      clearTimeout(wsTimer);
      clearTimeout(queuedTimer);
      if (controller) {
        controller.abort();
      }
      if (ws) {
        var sock = ws;
        ws = null;
        sock.close();
      }
      storage.clear();

      var box = el("section", "solved");
      box.id = "solved";
      box.tabIndex = -1;
      box.setAttribute("aria-labelledby", "solved-title");
      var h = el("h2", "solved__title", t("new_ticket.solved.title"));
      h.id = "solved-title";
      box.appendChild(h);
      // The sentence names the article with a link: its text is split
      // around the {article} placeholder.
      var p = el("p");
      var a = el("a", null, s.title || t("new_ticket.solved.the_article"));
      a.href = safeURL(s.url);
      var parts = t("new_ticket.solved.text").split("{article}");
      p.appendChild(document.createTextNode(parts[0]));
      p.appendChild(a);
      p.appendChild(document.createTextNode(parts.slice(1).join("")));
      box.appendChild(p);
      var next = el("p", "solved__links");
      var home = el("a", "button", t("new_ticket.solved.home"));
      home.href = "/?lang=" + encodeURIComponent(pageLang);
      var again = el("a", "button", t("new_ticket.solved.again"));
      again.href = "/tickets/new?lang=" + encodeURIComponent(pageLang);
      next.appendChild(home);
      next.appendChild(document.createTextNode(" "));
      next.appendChild(again);
      box.appendChild(next);
      if (summary) {
        summary.remove();
      }
      form.replaceWith(box);
      box.focus();
    }

    function onDraftInput() {
      scheduleSave();
      clearTimeout(typingTimer);
      typingTimer = setTimeout(suggest, SUGGEST_DEBOUNCE_MS);
    }
    [subject, description].forEach(function (field) {
      field.addEventListener("input", onDraftInput);
      field.addEventListener("paste", onDraftInput);
    });
    if (langSelect) {
      langSelect.addEventListener("change", function () {
        clearTimeout(typingTimer);
        typingTimer = setTimeout(suggest, SUGGEST_DEBOUNCE_MS);
      });
    }

    var saveContact = rememberContact(form);
    var submitButton = form.querySelector('button[type="submit"]');
    form.addEventListener("submit", function (e) {
      if (sessionInput && session) {
        sessionInput.value = session;
      }
      if (details.hidden) {
        // Enter in the subject: show the rest of the form first.
        e.preventDefault();
        continueToForm();
        return;
      }
      saveNow();
      if (saveContact) {
        saveContact();
      }
      if (submitButton) {
        // After the browser has taken the submission: no second ticket.
        setTimeout(function () {
          submitButton.disabled = true;
        }, 0);
      }
    });
    window.addEventListener("pageshow", function () {
      if (submitButton) {
        submitButton.disabled = false;
      }
    });
    window.addEventListener("pagehide", saveNow);

    connect();
    if (!isEmptyDraft()) {
      suggest();
    }
  }

  var ticketForm = document.getElementById("ticket-form");
  if (ticketForm) {
    TicketDraft(ticketForm);
  }
})();
