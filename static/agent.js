// The agent console: live refresh of the queue and of an open ticket, the
// filters, and linking a knowledge-base article into a reply. Without
// JavaScript every page still works by reloading.
(function () {
  "use strict";

  var dot = document.getElementById("live-dot");
  var queuePage = document.querySelector('[data-live="queue"]');
  var ticketPage = document.querySelector('[data-live="ticket"]');

  function setLive(state) {
    if (dot) dot.setAttribute("data-state", state);
  }

  // The reply being written survives a failed send, a session that ended
  // and a reload: it is kept in sessionStorage per ticket until sent.
  var replyBody = document.getElementById("reply-body");
  var draftKey = ticketPage ? "orbitask-reply-" + ticketPage.getAttribute("data-number") : "";
  function dirty() {
    return !!(replyBody && replyBody.value.trim());
  }
  if (replyBody && draftKey && window.sessionStorage) {
    var sent = /[?&]flash=(reply|note|call)\b/.test(window.location.search);
    if (sent) {
      sessionStorage.removeItem(draftKey);
    } else if (!replyBody.value) {
      replyBody.value = sessionStorage.getItem(draftKey) || "";
    }
    replyBody.addEventListener("input", function () {
      sessionStorage.setItem(draftKey, replyBody.value);
    });
  }

  // refresher fetches parts of the page again and swaps them in, by id;
  // changes that arrive while a fetch runs are coalesced into one more
  // fetch.
  function refresher(url, targets) {
    var busy = false, again = false, timer = null;
    function editing() {
      // Someone is filling in a form in a part: refresh a little later
      // rather than wipe what they are typing or choosing.
      var active = document.activeElement;
      return !!active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName) && targets.some(function (id) {
        var el = document.getElementById(id);
        return el && el.contains(active);
      });
    }
    function run() {
      if (busy) { again = true; return; }
      if (editing()) {
        clearTimeout(timer);
        timer = setTimeout(run, 2000);
        return;
      }
      busy = true;
      fetch(url(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (r.status === 401 || r.redirected) {
            // Signed out (elsewhere, or the session ended): reload to the
            // sign-in page, unless that would throw away a draft.
            setLive("off");
            if (!dirty()) window.location.reload();
            return null;
          }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          var tpl = document.createElement("template");
          tpl.innerHTML = html;
          targets.forEach(function (id) {
            var el = document.getElementById(id);
            var fresh = tpl.content.getElementById(id);
            if (el && fresh) {
              el.replaceWith(fresh);
              localTimes(fresh);
            }
          });
        })
        .catch(function () {})
        .finally(function () {
          busy = false;
          if (again) { again = false; schedule(); }
        });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(run, 150);
    }
    return schedule;
  }

  // Times are rendered in UTC by the server; shown in the agent's own
  // time zone here (the UTC text stays in the title).
  var timeFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit"
  });
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime()) || el.hasAttribute("data-local")) return;
      if (!el.title) el.title = el.textContent.trim();
      if (!el.classList.contains("sla-left")) el.textContent = timeFormat.format(d);
      el.setAttribute("data-local", "");
    });
  }
  localTimes(document);

  var onEvent = null;
  if (queuePage) {
    var query = queuePage.getAttribute("data-query") || "";
    onEvent = refresher(function () {
      return "/agent?" + (query ? query + "&" : "") + "part=queue";
    }, ["filters", "queue"]);
    // The filters are swapped in with their counts: listen on the page,
    // not on a form that a refresh replaces.
    queuePage.addEventListener("change", function (e) {
      var form = e.target.form;
      if (form && form.id === "filters") form.submit();
    });
  }
  if (ticketPage) {
    var number = ticketPage.getAttribute("data-number");
    var refreshTicket = refresher(function () {
      return "/agent/tickets/" + number + "?part=live";
    }, ["ticket-head", "ticket-conversation", "ticket-side"]);
    onEvent = function (msg) {
      if (String(msg.number) === number) refreshTicket();
    };
  }

  // Clocks move without events: a ticket becomes "at risk" or "breached"
  // as working time passes, so the view is refreshed every minute too.
  if (onEvent) {
    setInterval(function () { onEvent({ number: ticketPage ? ticketPage.getAttribute("data-number") : 0 }); }, 60000);
  }

  // One socket for the console's live changes, reconnecting with backoff:
  // 0.5 s doubling up to 15 s, each ±20 % at random, and a random 1–10 s
  // when the server is going away (1001: a restart), so that the consoles
  // do not all reconnect at once. A session that ended (1008, "signed
  // out") does not reconnect: the next click goes to the sign-in page.
  if (onEvent && "WebSocket" in window) {
    var delay = 500;
    var connect = function () {
      var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
      var ws = new WebSocket(proto + "//" + window.location.host + "/agent/live");
      ws.onopen = function () { setLive("on"); };
      ws.onmessage = function (e) {
        var msg;
        try { msg = JSON.parse(e.data); } catch (err) { return; }
        if (msg.type === "hello") { delay = 500; return; }
        if (msg.type === "event") onEvent(msg);
      };
      ws.onclose = function (e) {
        setLive("off");
        if (e.code === 1008) return;
        var wait = e.code === 1001 ? 1000 + 9000 * Math.random() : delay * (0.8 + 0.4 * Math.random());
        setTimeout(connect, Math.round(wait));
        delay = Math.min(delay * 2, 15000);
      };
    };
    connect();
  }

  // A note that records a call is internal.
  var call = document.getElementById("reply-call");
  var internal = document.getElementById("reply-internal");
  var send = document.getElementById("reply-send");
  function label() {
    if (!send) return;
    send.textContent = call && call.checked ? "Record call" : internal && internal.checked ? "Save note" : "Send to customer";
  }
  // The status to set with the message: a reply to the customer defaults
  // to waiting on them (the server's choice, data-reply-default), a note to
  // no change; once the agent picks a status themselves, it stays.
  var replyStatus = document.getElementById("reply-status");
  var statusChosen = false;
  if (replyStatus) {
    replyStatus.addEventListener("change", function () { statusChosen = true; });
  }
  function defaultStatus() {
    if (!replyStatus || statusChosen || !internal) return;
    replyStatus.value = internal.checked ? "" : replyStatus.getAttribute("data-reply-default") || "";
  }
  if (call && internal) {
    call.addEventListener("change", function () { if (call.checked) internal.checked = true; label(); defaultStatus(); });
    internal.addEventListener("change", function () { if (!internal.checked) call.checked = false; label(); defaultStatus(); });
    label();
  }

  // Link a knowledge-base article: search as you type, insert
  // "[Title](link)" where the cursor is.
  var box = document.getElementById("kb-link");
  var body = document.getElementById("reply-body");
  if (box && body) {
    box.hidden = false;
    var input = document.getElementById("kb-query");
    var list = document.getElementById("kb-results");
    var lang = box.getAttribute("data-lang") || "";
    var timer = null, seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        var mine = ++seq;
        if (!q) { list.replaceChildren(); return; }
        // prefix=1: as-you-type lookups, not recorded as customers' searches.
        var url = "/api/search?limit=5&prefix=1&q=" + encodeURIComponent(q) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
        fetch(url).then(function (r) { return r.json(); }).then(function (res) {
          if (mine !== seq) return;
          list.replaceChildren();
          (res.hits || []).forEach(function (hit) {
            var li = document.createElement("li");
            var b = document.createElement("button");
            b.type = "button";
            b.className = "link-button kb-link__hit";
            b.textContent = hit.title;
            b.addEventListener("click", function () {
              var link = "[" + hit.title.replace(/[\[\]]/g, "") + "](" + window.location.origin + hit.url + ")";
              var start = body.selectionStart, end = body.selectionEnd;
              body.value = body.value.slice(0, start) + link + body.value.slice(end);
              body.focus();
              body.selectionStart = body.selectionEnd = start + link.length;
            });
            li.appendChild(b);
            list.appendChild(li);
          });
          if (!list.children.length) {
            var none = document.createElement("li");
            none.className = "muted";
            none.textContent = "No article matches.";
            list.appendChild(none);
          }
        }).catch(function () {});
      }, 200);
    });
  }

  // The support policy's standard answer (a bug report from a deployment
  // outside the policy): fill the reply box in place, keeping any draft.
  var std = document.getElementById("insert-standard-answer");
  if (std && body) {
    std.addEventListener("click", function (e) {
      e.preventDefault();
      var text = std.getAttribute("data-answer") || "";
      body.value = body.value.trim() ? body.value.replace(/\s+$/, "") + "\n\n" + text : text;
      body.focus();
    });
  }
})();
