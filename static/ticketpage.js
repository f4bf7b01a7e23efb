// Orbitask support portal: a ticket's private page. It shows times in the
// reader's time zone and follows the ticket live. The page works without
// this script. The new-ticket page has its own, draft.js.
(function () {
  "use strict";

  var DRAFT_KEY = "orbitask.ticketDraft"; // draft.js's saved draft, cleared once filed

  // The page's words and language, from app.js (loaded first, by the
  // layout): t(key, args) and tn(key, n, args) for plurals.
  var t = window.Orbitask.t;
  var tn = window.Orbitask.tn;
  var pageLang = window.Orbitask.lang;
  // el and Backoff (reconnection delays) are app.js's too.
  var el = window.Orbitask.el;
  var Backoff = window.Orbitask.Backoff;

  function has(key) {
    return t(key) !== key;
  }

  // ---- helpers ----


  function clearDraft() {
    try {
      window.localStorage.removeItem(DRAFT_KEY);
    } catch (e) {
      // storage disabled: nothing was saved
    }
  }

  // Times are shown in the reader's time zone, written the page's way: in
  // the reader's own variant of the page's language if they have one
  // (en-GB, de-AT), else in the page's language.
  var locale = pageLang;
  (navigator.languages || [navigator.language]).some(function (l) {
    if (l && String(l).toLowerCase().split("-")[0] === pageLang) {
      locale = l;
      return true;
    }
    return false;
  });

  function dateFormat(options) {
    try {
      return new Intl.DateTimeFormat(locale, options);
    } catch (e) {
      return null;
    }
  }
  var dateTimeFormat = dateFormat({ dateStyle: "medium", timeStyle: "short" });
  var deadlineFormat = dateFormat({
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });

  function format(fmt, iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return "";
    }
    return fmt ? fmt.format(d) : d.toLocaleString(locale);
  }

  // formatTime shows an RFC 3339 time in the reader's time zone.
  function formatTime(iso) {
    return format(dateTimeFormat, iso);
  }

  var numberFormat = null;
  try {
    numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  } catch (e) {
    numberFormat = null;
  }

  function timeElement(iso, className) {
    var node = el("time", className, formatTime(iso));
    var d = new Date(iso);
    if (!isNaN(d.getTime())) {
      node.dateTime = d.toISOString();
    }
    return node;
  }

  function formatBytes(n) {
    if (!isFinite(n) || n < 0) {
      return "";
    }
    if (n < 1024) {
      return tn("ticket.size.bytes", n);
    }
    var num = function (x) {
      return numberFormat ? numberFormat.format(x) : x.toFixed(1);
    };
    if (n < 1024 * 1024) {
      return t("ticket.size.kb", { size: num(Math.round(n / 1024)) });
    }
    return t("ticket.size.mb", { size: num(Math.round(n / 104857.6) / 10) });
  }

  // slaText states the commitment of a plan in the page's language, with
  // the due time in the reader's time zone (the server's text names it in
  // UTC); no due time means terms agreed individually.
  // slaText states the commitment; the server says which text applies
  // (data-sla-kind: basic, priority, individual_due) and Basic's hours.
  function slaText(plan, due, node) {
    var when = due ? format(deadlineFormat, due) : "";
    if (!when) {
      return t("ticket.sla.individual");
    }
    var kind = node && node.getAttribute("data-sla-kind");
    var hours = node && node.getAttribute("data-sla-hours");
    if (!kind || kind === "individual") {
      // A due time arrived where there was none: the server's text for it
      // is not known here, so the plain one.
      kind = plan === "individual" ? "individual_due" : "due";
    }
    if (kind === "basic" && !hours) {
      kind = "due";
    }
    return t("ticket.sla." + kind, { due: when, hours: hours || "" });
  }

  // renderSLA writes the commitment and keeps its due time on the node.
  function renderSLA(node, plan, due) {
    var d = due ? new Date(due) : null;
    if (!d || isNaN(d.getTime())) {
      node.removeAttribute("data-sla-due");
      node.textContent = slaText(plan, null, node);
      return;
    }
    node.setAttribute("data-sla-due", d.toISOString());
    node.textContent = slaText(plan, due, node);
  }

  // ---- a ticket's page ----

  function TicketPage(root) {
    var copyButton = document.getElementById("copy-link");
    if (copyButton) {
      // Just filed: the draft is a ticket now.
      clearDraft();
      enhanceCopy(copyButton);
    }

    localizeTimes(root);
    var sla = document.getElementById("sla");
    var plan = document.getElementById("plan");
    if (sla && sla.getAttribute("data-sla-due")) {
      renderSLA(sla, plan ? plan.getAttribute("data-plan") : "", sla.getAttribute("data-sla-due"));
    }
    root.querySelectorAll("[data-size]").forEach(function (s) {
      var text = formatBytes(Number(s.getAttribute("data-size")));
      if (text) {
        s.textContent = text;
      }
    });

    var replyForm = document.getElementById("reply-form");
    if (replyForm) {
      var replyButton = replyForm.querySelector('button[type="submit"]');
      replyForm.addEventListener("submit", function () {
        if (replyButton) {
          setTimeout(function () {
            replyButton.disabled = true;
          }, 0);
        }
      });
      window.addEventListener("pageshow", function () {
        if (replyButton) {
          replyButton.disabled = false;
        }
      });
    }

    var liveURL = document.body.getAttribute("data-live-url") || root.getAttribute("data-live-url");
    if (liveURL && typeof WebSocket === "function") {
      LiveTicket(root, liveURL);
    }
  }

  function localizeTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach(function (node) {
      var text = formatTime(node.getAttribute("datetime"));
      if (text) {
        node.title = node.textContent;
        node.textContent = text;
      }
    });
  }

  function enhanceCopy(button) {
    var input = document.getElementById("private-link");
    var status = document.getElementById("copy-status");
    if (!input) {
      return;
    }
    button.hidden = false;
    function say(text) {
      if (status) {
        status.textContent = "";
        setTimeout(function () {
          status.textContent = text;
        }, 50);
      }
    }
    function selectLink() {
      input.focus();
      input.select();
      input.setSelectionRange(0, input.value.length);
    }
    function fallback() {
      selectLink();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      say(ok ? t("ticket.copy.copied") : t("ticket.copy.manual"));
    }
    input.addEventListener("focus", function () {
      input.select();
    });
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(t("ticket.copy.copied"));
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  // LiveTicket follows a ticket over its WebSocket: a snapshot on every
  // connection, then events with increasing sequence numbers.
  function LiveTicket(root, liveURL) {
    var statusBadge = document.getElementById("status");
    var liveStatus = document.getElementById("live-status");
    var messages = document.getElementById("messages");
    var history = document.getElementById("history");
    var sla = document.getElementById("sla");
    var plan = document.getElementById("plan");
    var severity = document.getElementById("severity");
    var callNote = document.getElementById("call-note");
    var replyForm = document.getElementById("reply-form");
    var closedNote = document.getElementById("closed-note");
    var reopenHint = document.getElementById("reopen-hint");
    var announcer = document.getElementById("ticket-announce");
    var customer = root.getAttribute("data-customer") || t("ticket.author.you");

    var lastSeq = Number(document.body.getAttribute("data-last-seq") || root.getAttribute("data-last-seq")) || 0;
    var backoff = new Backoff();
    var ws = null;
    var timer = 0;
    var state = "";

    function setLive(s) {
      if (!liveStatus || s === state) {
        return;
      }
      state = s;
      liveStatus.setAttribute("data-state", s);
      liveStatus.textContent = t(s === "live" ? "ticket.live.live" : s === "offline" ? "ticket.live.offline" : "ticket.live.connecting");
    }

    function announce(text) {
      if (!announcer) {
        return;
      }
      announcer.textContent = "";
      setTimeout(function () {
        announcer.textContent = text;
      }, 50);
    }

    function url() {
      var u = new URL(liveURL, window.location.href);
      if (u.protocol === "http:") {
        u.protocol = "ws:";
      } else if (u.protocol === "https:") {
        u.protocol = "wss:";
      }
      u.searchParams.set("after", String(lastSeq));
      return u.href;
    }

    function statusLabel(s) {
      return has("ticket.status." + s) ? t("ticket.status." + s) : String(s);
    }

    // severityLabel is "2 – High" in the page's language.
    function severityLabel(n) {
      var name = "severity." + n + ".name";
      return has(name) ? t("severity.label", { level: n, name: t(name) }) : String(n);
    }

    // showCall shows the call note while a call is due and the ticket is
    // not settled.
    function showCall() {
      if (!callNote) {
        return;
      }
      var s = statusBadge ? statusBadge.getAttribute("data-status") : "";
      callNote.hidden = callNote.getAttribute("data-call") !== "true" || s === "solved" || s === "closed";
    }

    function setStatus(s) {
      if (!s || !statusBadge) {
        return false;
      }
      var changed = statusBadge.getAttribute("data-status") !== s;
      statusBadge.setAttribute("data-status", s);
      if (changed) {
        statusBadge.textContent = statusLabel(s);
      }
      if (replyForm) {
        replyForm.hidden = s === "closed";
      }
      if (closedNote) {
        closedNote.hidden = s !== "closed";
      }
      if (reopenHint) {
        reopenHint.hidden = s !== "solved";
      }
      var paused = document.getElementById("sla-paused");
      if (paused && sla) {
        // The clock stands still while we wait on the customer.
        paused.hidden = s !== "waiting" || !sla.hasAttribute("data-sla-due");
      }
      // A solved or closed ticket promises neither a resolution time nor a
      // call (as web/ticketviews.go, settled, renders it).
      var settled = s === "solved" || s === "closed";
      var slaRow = document.getElementById("sla-row");
      if (slaRow) {
        slaRow.hidden = settled;
      }
      showCall();
      return changed;
    }

    function currentPlan() {
      return plan ? plan.getAttribute("data-plan") || "" : "";
    }

    // setSLA shows a new commitment, written here from the plan and the due
    // time (the server's sla_text is English, for the API). It reports
    // whether anything changed.
    function setSLA(due) {
      if (!sla) {
        return false;
      }
      var d = due ? new Date(due) : null;
      if (d && isNaN(d.getTime())) {
        return false;
      }
      var old = sla.getAttribute("data-sla-due");
      var text = slaText(currentPlan(), d ? due : null, sla);
      if ((old ? new Date(old).getTime() : 0) === (d ? d.getTime() : 0) && sla.textContent === text) {
        return false;
      }
      renderSLA(sla, currentPlan(), d ? due : null);
      return true;
    }

    function setPlan(p) {
      if (!plan || !p || plan.getAttribute("data-plan") === p) {
        return;
      }
      plan.setAttribute("data-plan", p);
      plan.textContent = has("ticket.plan." + p) ? t("ticket.plan." + p) : p;
    }

    function setSeverity(n) {
      if (!severity || !n || severity.getAttribute("data-severity") === String(n)) {
        return false;
      }
      severity.setAttribute("data-severity", String(n));
      severity.textContent = severityLabel(n);
      return true;
    }

    function messageNode(m) {
      var author = m.author === "support" ? "support" : "customer";
      var art = el("article", "message message--" + author);
      var header = el("header", "message__header");
      header.appendChild(el("span", "message__author", author === "support" ? t("ticket.author.support") : customer));
      header.appendChild(document.createTextNode(" "));
      header.appendChild(timeElement(m.created_at, "message__time"));
      art.appendChild(header);
      if (author === "support" && typeof m.html === "string") {
        // Support writes Markdown; the server renders it with raw HTML and
        // unsafe links left out, exactly as on the page it served.
        var body = el("div", "message__body message__body--markdown");
        body.innerHTML = m.html;
        art.appendChild(body);
      } else {
        art.appendChild(el("div", "message__body", m.body || ""));
      }
      return art;
    }

    // historyText writes an event in the page's language from its kind
    // (the server's text field is English, for the API); web/ticketviews.go
    // writes the same on the server (localEventText).
    function historyText(h) {
      switch (h.kind) {
        case "filed":
          return t("ticket.history.filed");
        case "status":
          return t("ticket.history.status", { status: statusLabel(h.status) });
        case "reply":
          var author = (h.message && h.message.author) || h.actor;
          return t(author === "support" ? "ticket.history.support_replied" : "ticket.history.you_replied");
        case "sla":
          return t("ticket.history.sla");
        case "severity":
          return h.severity ? t("ticket.history.severity", { severity: severityLabel(h.severity) }) : t("ticket.history.other");
        default:
          return t("ticket.history.other");
      }
    }

    function historyNode(h) {
      var li = el("li", "history__item");
      if (h.kind) {
        li.setAttribute("data-kind", h.kind);
      }
      li.appendChild(timeElement(h.at || h.created_at, "history__time"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "history__text", historyText(h)));
      return li;
    }

    function sameList(container, key) {
      if (container.getAttribute("data-key") === key) {
        return true;
      }
      container.setAttribute("data-key", key);
      return false;
    }

    function applySnapshot(ticket) {
      if (!ticket || typeof ticket !== "object") {
        return;
      }
      setStatus(ticket.status);
      setPlan(ticket.plan);
      setSeverity(ticket.severity);
      if ("sla_due" in ticket) {
        setSLA(ticket.sla_due);
      }
      if (callNote && typeof ticket.call_required === "boolean") {
        callNote.setAttribute("data-call", String(ticket.call_required));
        showCall();
      }
      if (messages && Array.isArray(ticket.messages)) {
        var mk = JSON.stringify(ticket.messages);
        if (!sameList(messages, mk)) {
          messages.textContent = "";
          ticket.messages.forEach(function (m) {
            messages.appendChild(messageNode(m));
          });
        }
      }
      if (history && Array.isArray(ticket.history)) {
        var hk = JSON.stringify(ticket.history);
        if (!sameList(history, hk)) {
          history.textContent = "";
          ticket.history.forEach(function (h) {
            history.appendChild(historyNode(h));
          });
        }
      }
    }

    function applyEvent(ev) {
      if (!ev || typeof ev !== "object") {
        return;
      }
      switch (ev.kind) {
        case "filed":
          setStatus(ev.status);
          if (ev.sla_due) {
            setSLA(ev.sla_due);
          }
          break;
        case "status":
          if (setStatus(ev.status)) {
            announce(t("ticket.announce.status", { status: statusLabel(ev.status) }));
          }
          break;
        case "reply":
          if (ev.message && messages) {
            messages.appendChild(messageNode(ev.message));
            messages.removeAttribute("data-key");
            if (ev.message.author === "support") {
              announce(t("ticket.announce.reply"));
            }
          }
          break;
        case "sla":
          if (ev.plan && ev.plan !== currentPlan()) {
            // The address was confirmed: the plan its domain grants now
            // applies (its label replaces the "once you confirm" note).
            setPlan(ev.plan);
            if (sla) {
              sla.setAttribute("data-sla-kind", ev.plan === "priority" ? "priority" : "due");
              sla.removeAttribute("data-sla-hours");
            }
          }
          if (setSLA(ev.sla_due || null)) {
            announce(t("ticket.announce.sla"));
          }
          break;
        case "severity":
          if (setSeverity(ev.severity)) {
            announce(t("ticket.announce.severity", { severity: severityLabel(ev.severity) }));
          }
          break;
        // Any other kind is only written in the history.
      }
      if (history) {
        history.appendChild(historyNode(ev));
        history.removeAttribute("data-key");
      }
    }

    function receive(msg) {
      if (!msg || typeof msg !== "object") {
        return;
      }
      var seq = Number(msg.seq) || 0;
      if (msg.type === "snapshot") {
        backoff.reset();
        applySnapshot(msg.ticket);
        if (seq > lastSeq) {
          lastSeq = seq;
        }
      } else if (msg.type === "event") {
        if (seq && seq <= lastSeq) {
          return; // already shown
        }
        applyEvent(msg.event);
        if (seq > lastSeq) {
          lastSeq = seq;
        }
      }
    }

    function connect() {
      clearTimeout(timer);
      var sock;
      try {
        sock = new WebSocket(url());
      } catch (e) {
        setLive("offline");
        reconnectLater();
        return;
      }
      ws = sock;
      sock.addEventListener("open", function () {
        if (ws === sock) {
          setLive("live");
        }
      });
      sock.addEventListener("message", function (e) {
        if (ws !== sock) {
          return;
        }
        var msg;
        try {
          msg = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        receive(msg);
      });
      sock.addEventListener("close", function (e) {
        if (ws !== sock) {
          return;
        }
        ws = null;
        setLive("offline");
        reconnectLater(e.code);
      });
    }

    function reconnectLater(code) {
      clearTimeout(timer);
      timer = setTimeout(connect, backoff.afterClose(code));
    }

    // Back online: try now rather than at the end of the backoff.
    window.addEventListener("online", function () {
      if (!ws) {
        backoff.reset();
        connect();
      }
    });

    setLive("connecting");
    connect();
  }

  var ticket = document.getElementById("ticket");
  if (ticket) {
    TicketPage(ticket);
  }
})();
