// Orbitask Help Center: instant search, keyboard shortcuts and the feedback
// form. Every page works without this script; it only makes them quicker.
(function () {
  "use strict";

  // The page's words: the server embeds those its scripts need as a JSON
  // data block (not executed, so the Content-Security-Policy allows it).
  var lang = document.documentElement.lang || "en";
  var strings = {};
  try {
    var block = document.getElementById("i18n-strings");
    strings = (block && JSON.parse(block.textContent)) || {};
  } catch (e) {
    strings = {};
  }

  // fill replaces {name} placeholders with args' values; unknown ones stay.
  function fill(text, args) {
    if (!args) {
      return text;
    }
    return text.replace(/\{([a-z_][a-z0-9_]*)\}/g, function (p, name) {
      return Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : p;
    });
  }

  // t is a message of the page's language with its placeholders filled;
  // a key the page lacks shows as itself.
  function t(key, args) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return fill(text, args);
  }

  var pluralRules = null;
  try {
    pluralRules = new Intl.PluralRules(lang);
  } catch (e) {
    pluralRules = null;
  }

  // tn is a plural message for n: the server sends its forms as KEY.one,
  // KEY.few, KEY.other, and the language's rules pick one.
  function tn(key, n, args) {
    var form = pluralRules ? pluralRules.select(n) : n === 1 ? "one" : "other";
    var k = key + "." + form;
    if (!Object.prototype.hasOwnProperty.call(strings, k)) {
      k = key + ".other";
    }
    var all = { count: n };
    for (var name in args || {}) {
      all[name] = args[name];
    }
    return t(k, all);
  }

  var DEBOUNCE_MS = 120;
  var MIN_CHARS = 2;
  var LIMIT = 6;
  var boxes = 0;

  // decode turns HTML entities back into text without interpreting markup:
  // a <textarea> parses its content as text only.
  var decoder = document.createElement("textarea");
  function decode(s) {
    decoder.innerHTML = s;
    return decoder.value;
  }

  // appendSnippet adds a server snippet (escaped text with <mark> tags) to
  // el as text nodes and <mark> elements; nothing else becomes markup.
  function appendSnippet(el, html) {
    var marked = false;
    html.split(/(<mark>|<\/mark>)/).forEach(function (part) {
      if (part === "<mark>" || part === "</mark>") {
        marked = part === "<mark>";
        return;
      }
      if (!part) {
        return;
      }
      var text = document.createTextNode(decode(part));
      if (marked) {
        var m = document.createElement("mark");
        m.appendChild(text);
        el.appendChild(m);
      } else {
        el.appendChild(text);
      }
    });
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text) {
      e.textContent = text;
    }
    return e;
  }

  // InstantSearch shows the best matches under a search box as the user
  // types: a combobox with a listbox of options.
  function InstantSearch(form) {
    var input = form.querySelector('input[name="q"]');
    if (!input) {
      return;
    }
    var langInput = form.querySelector('input[name="lang"]');
    var id = "instant-" + ++boxes;
    var list = el("ul", "instant");
    list.id = id + "-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", t("search.instant.label"));
    list.hidden = true;
    var live = el("div", "visually-hidden");
    live.setAttribute("aria-live", "polite");
    live.setAttribute("role", "status");
    form.appendChild(list);
    form.appendChild(live);
    form.classList.add("has-instant");

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    var timer = 0;
    var controller = null;
    var options = []; // {node, url}
    var active = -1;
    var shownFor = "";

    function allResultsURL(q) {
      var params = new URLSearchParams();
      params.set("q", q);
      if (langInput && langInput.value) {
        params.set("lang", langInput.value);
      }
      return (form.getAttribute("action") || "/search") + "?" + params.toString();
    }

    function open() {
      if (options.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function setActive(i) {
      if (active >= 0 && options[active]) {
        options[active].node.setAttribute("aria-selected", "false");
      }
      active = i;
      if (i < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      var node = options[i].node;
      node.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", node.id);
      node.scrollIntoView({ block: "nearest" });
    }

    function move(delta) {
      if (!options.length) {
        return;
      }
      if (list.hidden) {
        open();
      }
      var n = options.length;
      var next = active < 0 ? (delta > 0 ? 0 : n - 1) : (active + delta + n) % n;
      setActive(next);
    }

    // query is set on an article's option: the query it was found for.
    function addOption(node, url, query) {
      node.id = id + "-opt-" + options.length;
      node.setAttribute("role", "option");
      node.setAttribute("aria-selected", "false");
      node.dataset.index = String(options.length);
      options.push({ node: node, url: url, query: query || "" });
      list.appendChild(node);
    }

    // Picking an article of the list is a search with a click (the
    // keystrokes before it are not searches): it is recorded as one, and
    // the article is opened with its id, ?sq=, as from the results page
    // (docs/metrics.md). If that fails, the article opens all the same.
    function choose(option) {
      if (!option.query) {
        window.location.assign(option.url);
        return;
      }
      // prefix=1 as the list's own request: the same query, the same
      // answer (an unfinished last word matches), so its total is true.
      var params = new URLSearchParams({ q: option.query, limit: "1", source: "instant", prefix: "1" });
      if (langInput && langInput.value) {
        params.set("lang", langInput.value);
      }
      var go = function (searchID) {
        if (!searchID) {
          window.location.assign(option.url);
          return;
        }
        var target = new URL(option.url, window.location.href);
        target.searchParams.set("sq", searchID);
        window.location.assign(target.pathname + target.search + target.hash);
      };
      fetch("/api/search?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (res) {
          return res.ok ? res.json() : {};
        })
        .then(
          function (data) {
            go(data.search_id);
          },
          function () {
            go("");
          },
        );
    }

    function show(q, data) {
      list.textContent = "";
      options = [];
      active = -1;
      shownFor = q;
      data.hits.forEach(function (hit) {
        var li = el("li", "instant__option");
        var title = li.appendChild(el("span", "instant__title", hit.title));
        if (hit.fallback && hit.lang) {
          // An article of the fallback language, marked "in English".
          title.lang = String(hit.lang);
          var key = "in_lang." + String(hit.lang).toLowerCase().split(/[-_]/)[0];
          var badge = el("span", "lang-badge", t(key) !== key ? t(key) : t("in_lang.other", { language: String(hit.lang) }));
          badge.lang = lang;
          li.appendChild(document.createTextNode(" "));
          li.appendChild(badge);
        }
        var snippet = el("span", "instant__snippet");
        appendSnippet(snippet, hit.snippet || "");
        li.appendChild(snippet);
        addOption(li, hit.url, q);
      });
      var all = el("li", "instant__option instant__all", t("search.instant.see_all", { query: q }));
      addOption(all, allResultsURL(q));
      var n = data.hits.length;
      live.textContent = n === 0 ? t("search.instant.none") : tn("search.instant.count", n);
      open();
    }

    function fetchResults() {
      var q = input.value.trim();
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      var params = new URLSearchParams({ q: q, limit: String(LIMIT), prefix: "1" });
      if (langInput && langInput.value) {
        params.set("lang", langInput.value);
      }
      fetch("/api/search?" + params.toString(), {
        signal: controller.signal,
        headers: { Accept: "application/json" },
      })
        .then(function (res) {
          if (!res.ok) {
            throw new Error("search failed: " + res.status);
          }
          return res.json();
        })
        .then(function (data) {
          if (input.value.trim() === q) {
            show(q, data);
          }
        })
        .catch(function (err) {
          if (err.name !== "AbortError") {
            close();
          }
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (input.value.trim().length < MIN_CHARS) {
        if (controller) {
          controller.abort();
        }
        options = [];
        list.textContent = "";
        shownFor = "";
        close();
        return;
      }
      timer = setTimeout(fetchResults, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (e) {
      switch (e.key) {
        case "ArrowDown":
          e.preventDefault();
          move(1);
          break;
        case "ArrowUp":
          e.preventDefault();
          move(-1);
          break;
        case "Enter":
          if (!list.hidden && active >= 0) {
            e.preventDefault();
            choose(options[active]);
          }
          break;
        case "Escape":
          if (!list.hidden) {
            e.preventDefault();
            close();
          }
          break;
      }
    });

    input.addEventListener("focus", function () {
      if (shownFor && input.value.trim() === shownFor) {
        open();
      }
    });

    // Keep the focus in the box while an option is clicked.
    list.addEventListener("mousedown", function (e) {
      e.preventDefault();
    });
    list.addEventListener("click", function (e) {
      var node = e.target.closest("[role=option]");
      if (node) {
        choose(options[Number(node.dataset.index)]);
      }
    });

    form.addEventListener("focusout", function (e) {
      if (!form.contains(e.relatedTarget)) {
        close();
      }
    });
  }

  // isTyping reports whether a key press is text for a field.
  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // "/" or Ctrl+K (Cmd+K) jumps to the search box.
  document.addEventListener("keydown", function (e) {
    var slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey;
    var ctrlK = (e.key === "k" || e.key === "K") && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey;
    if ((!slash && !ctrlK) || isTyping(e.target)) {
      return;
    }
    var box = document.querySelector(".search--big .search__input") || document.querySelector(".search__input");
    if (box) {
      e.preventDefault();
      box.focus();
      box.select();
    }
  });

  // postVote sends a vote (form's fields, plus extra) in the background;
  // 409 (enough votes from this network are counted already) is thanked
  // for all the same.
  function postVote(form, extra) {
    var body = new URLSearchParams(new FormData(form));
    for (var name in extra) {
      body.set(name, extra[name]);
    }
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (res) {
      if (!res.ok && res.status !== 409) {
        throw new Error("vote failed: " + res.status);
      }
    });
  }

  // sendInPlace posts form's vote when it is submitted and replaces form
  // with the words of thanksKey(submitter) once stored; then() runs after.
  function sendInPlace(form, thanksKey, then) {
    form.addEventListener("submit", function (e) {
      var button = e.submitter;
      if (!button) {
        return; // let the browser post the form
      }
      e.preventDefault();
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) {
        b.disabled = true;
      });
      var extra = {};
      if (button.name) {
        extra[button.name] = button.value;
      }
      postVote(form, extra)
        .then(function () {
          var thanks = el("p", "feedback__thanks", t(thanksKey(button)));
          thanks.setAttribute("role", "status");
          form.replaceWith(thanks);
          if (then) {
            then(button, thanks);
          }
        })
        .catch(function () {
          buttons.forEach(function (b) {
            b.disabled = false;
          });
          var old = form.querySelector(".feedback__error");
          if (!old) {
            var msg = el("p", "feedback__error", t("article.feedback.error"));
            msg.setAttribute("role", "alert");
            form.appendChild(msg);
          }
        });
    });
  }

  // The feedback form posts in the background and thanks in place; after
  // "No" it shows the question what was missing and the way to support,
  // which the page sends hidden.
  function enhanceFeedback(form) {
    var section = form.closest(".feedback");
    var more = section && section.querySelector("[data-feedback-more]");
    sendInPlace(
      form,
      function (button) {
        return button.value === "no" ? "article.feedback.thanks_no" : "article.feedback.thanks";
      },
      function (button) {
        if (button.value === "no" && more) {
          more.hidden = false;
        }
      }
    );
  }

  // What was missing replaces the "No" with a line for the writers.
  function enhanceMissing(form) {
    var input = form.querySelector('input[name="missing"]');
    // Nothing written: nothing to send (the line is optional).
    form.addEventListener("submit", function (e) {
      if (input && !input.value.trim()) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    });
    sendInPlace(
      form,
      function () {
        return "article.feedback.noted";
      },
      function (button, thanks) {
        // One thanks at a time: this one says more than "thanks for telling us".
        var section = thanks.closest(".feedback");
        var first = section && section.querySelector(":scope > .feedback__thanks");
        if (first) {
          first.remove();
        }
      }
    );
  }
  // Backoff yields reconnection delays: 1 s doubling up to 30 s, each with
  // ±20 % jitter so that many pages do not reconnect in step.
  function Backoff() {
    this.attempt = 0;
  }
  Backoff.prototype.next = function () {
    var base = Math.min(30000, 1000 * Math.pow(2, this.attempt));
    this.attempt++;
    return Math.min(30000, Math.round(base * (0.8 + 0.4 * Math.random())));
  };
  Backoff.prototype.reset = function () {
    this.attempt = 0;
  };
  // afterClose is the delay before reconnecting after a close: when the
  // server says it is going away (1001: a restart), a random 1–10 s, so
  // that every open page does not reconnect to the new process at once.
  Backoff.prototype.afterClose = function (code) {
    if (code === 1001) {
      this.attempt = 1;
      return Math.round(1000 + 9000 * Math.random());
    }
    return this.next();
  };

  // Shared with draft.js and ticketpage.js, which the ticket pages load after this file.
  window.Orbitask = { appendSnippet: appendSnippet, lang: lang, t: t, tn: tn, el: el, Backoff: Backoff };

  document.querySelectorAll("form[data-instant-search]").forEach(InstantSearch);
  document.querySelectorAll("form[data-feedback]").forEach(enhanceFeedback);
  document.querySelectorAll("form[data-feedback-missing]").forEach(enhanceMissing);
})();
