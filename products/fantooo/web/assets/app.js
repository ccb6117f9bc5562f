// Fantooo page enhancements. Every page works without this script; it adds
// the sign-up stepper, live username and city checks, confirmations and toasts.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function toast(message, kind) {
    var region = document.querySelector(".toast-region");
    if (!region) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (kind || "info");
    el.textContent = message;
    region.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }
  window.fantoooToast = toast;

  // A random id for this browser, kept for a year, so abuse from one
  // device can be recognised across accounts.
  if (!/(?:^|; )fantooo_device=/.test(document.cookie) && window.crypto && crypto.getRandomValues) {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    var id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    document.cookie = "fantooo_device=" + id + "; Max-Age=31536000; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  }

  // Times are sent as UTC instants (<time datetime>) and shown in the
  // reader's own zone, whether the server rendered them or a live update
  // added them: "14:05" inside a message, "12 Mar, 14:05" elsewhere.
  function pad(n) { return ("0" + n).slice(-2); }
  function localize(el) {
    if (el.hasAttribute("data-local")) return;
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) return;
    var clock = pad(d.getHours()) + ":" + pad(d.getMinutes());
    el.textContent = el.closest(".msg-meta")
      ? clock
      : d.toLocaleDateString(undefined, { day: "numeric", month: "short" }) + ", " + clock;
    el.title = d.toLocaleString();
    el.setAttribute("data-local", "");
  }
  function localizeIn(node) {
    if (node.nodeType !== 1) return;
    if (node.matches("time[datetime]")) localize(node);
    node.querySelectorAll("time[datetime]").forEach(localize);
  }
  localizeIn(document.body);
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (r) { r.addedNodes.forEach(localizeIn); });
    }).observe(document.body, { childList: true, subtree: true });
  }

  // A wide table scrolls sideways inside its frame; a frame that scrolls
  // can be reached and scrolled by keyboard, named after its heading.
  function scrollFrames() {
    document.querySelectorAll(".table-wrap").forEach(function (w) {
      var scrolls = w.scrollWidth > w.clientWidth + 1;
      if (scrolls && !w.hasAttribute("tabindex")) {
        var box = w.closest("section, .card, main");
        var h = w.querySelector("caption") || (box && box.querySelector("h1, h2, h3"));
        w.tabIndex = 0;
        w.setAttribute("role", "region");
        w.setAttribute("aria-label", (h ? h.textContent.trim() + ": " : "") + "table, scrolls sideways");
      } else if (!scrolls && w.getAttribute("role") === "region") {
        w.removeAttribute("tabindex");
        w.removeAttribute("role");
        w.removeAttribute("aria-label");
      }
    });
  }
  scrollFrames();
  window.addEventListener("resize", debounce(scrollFrames, 200));

  // Destructive actions ask first.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);

  // Sign-up stepper: one fieldset at a time, validated before moving on.
  var form = document.querySelector("[data-signup]");
  if (form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
    var labels = Array.prototype.slice.call(document.querySelectorAll("[data-stepper] li"));
    var current = parseInt(form.getAttribute("data-first-step") || "1", 10) - 1;
    function show(i) {
      current = i;
      steps.forEach(function (s, j) { s.hidden = j !== i; });
      labels.forEach(function (l, j) {
        l.classList.toggle("active", j === i);
        l.classList.toggle("done", j < i);
      });
      var first = steps[i].querySelector("input:not([type=hidden])");
      if (first) first.focus();
    }
    function stepValid(i) {
      var ok = true;
      steps[i].querySelectorAll("input").forEach(function (inp) {
        if (inp.type !== "hidden" && !inp.checkValidity()) { ok = false; }
      });
      if (!ok) {
        var bad = steps[i].querySelector("input:invalid");
        if (bad) bad.reportValidity();
      }
      return ok;
    }
    // Shows the server's field errors inside one step, replacing earlier ones.
    function showErrors(step, fields) {
      step.querySelectorAll("[data-error]").forEach(function (el) { el.remove(); });
      step.querySelectorAll(".field.invalid").forEach(function (el) { el.classList.remove("invalid"); });
      var first = null;
      (fields || []).forEach(function (f) {
        var input = step.querySelector("[name='" + f.field + "']");
        var box = input && input.closest(".field");
        if (!box) return;
        box.classList.add("invalid");
        var p = document.createElement("p");
        p.className = "error-text";
        p.setAttribute("data-error", f.field);
        p.setAttribute("role", "alert");
        p.textContent = f.message;
        box.appendChild(p);
        if (!first) first = input;
      });
      if (first) first.focus();
    }
    // The server checks each step with the same rules as the final submit
    // (username taken, age, password strength) before the user moves on.
    // Without an answer the user may go on; the submit checks everything.
    var checkUrl = form.getAttribute("data-step-check");
    var checking = false;
    function check(i, pass) {
      if (!stepValid(i) || checking) return;
      if (!checkUrl || !window.fetch) { pass(); return; }
      var body = { step: i + 1 };
      new FormData(form).forEach(function (v, k) { if (k !== "csrf_token") body[k] = v; });
      var csrf = form.querySelector("[name=csrf_token]");
      checking = true;
      form.setAttribute("aria-busy", "true");
      fetch(checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
        body: JSON.stringify(body)
      })
        .then(function (r) {
          if (r.status === 422) return r.json().then(function (d) { showErrors(steps[i], d.fields); });
          showErrors(steps[i], []);
          pass();
        }, pass)
        .then(function () { checking = false; form.removeAttribute("aria-busy"); });
    }
    function next() {
      var i = current;
      check(i, function () { show(Math.min(i + 1, steps.length - 1)); });
    }
    form.addEventListener("click", function (e) {
      if (e.target.hasAttribute("data-next")) {
        next();
      } else if (e.target.hasAttribute("data-prev")) {
        show(Math.max(current - 1, 0));
      }
    });
    form.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target.tagName === "INPUT" && current < steps.length - 1) {
        e.preventDefault();
        next();
      }
    });
    // The last step is checked the same way, so a weak password is named
    // before anything is submitted.
    var checked = false;
    form.addEventListener("submit", function (e) {
      if (checked) return;
      e.preventDefault();
      check(current, function () { checked = true; form.submit(); });
    });
    show(current);
  }

  // Live username availability, debounced.
  var uname = document.querySelector("[data-availability]");
  if (uname) {
    var status = document.querySelector("[data-availability-status]");
    var preview = document.querySelector("[data-email-preview]");
    var check = debounce(function () {
      var v = uname.value.trim().toLowerCase();
      if (preview) preview.textContent = v || "name";
      if (v.length < 3) { status.textContent = ""; status.className = "availability"; return; }
      fetch(uname.getAttribute("data-availability") + "?username=" + encodeURIComponent(v), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          if (uname.value.trim().toLowerCase() !== v) return;
          status.textContent = d.available ? "✓ " + v + " is available" : (d.error || "Not available");
          status.className = "availability " + (d.available ? "ok" : "taken");
        })
        .catch(function () { status.textContent = ""; });
    }, 300);
    uname.addEventListener("input", check);
  }

  // City autocomplete from the gazetteer.
  var loc = document.querySelector("[data-location-suggest]");
  if (loc) {
    var list = document.querySelector("[data-suggestions]");
    var lat = document.querySelector("[data-lat]"), lon = document.querySelector("[data-lon]");
    // The list belongs to the field being typed in: a question is asked
    // only while the field has focus, and an answer that comes after the
    // user typed on or moved to the next field is dropped, so it never
    // pops up over the fields they are filling in now.
    // It is a combobox: the arrow keys move through the cities, Enter takes
    // one (without moving to the next step), Escape closes the list; the
    // focus stays in the field throughout.
    var active = -1;
    function open(yes) {
      list.hidden = !yes;
      loc.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) mark(-1);
    }
    function mark(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.classList.toggle("active", j === i);
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0) {
        loc.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else {
        loc.removeAttribute("aria-activedescendant");
      }
    }
    function pick(p) {
      loc.value = p.label; lat.value = p.latitude; lon.value = p.longitude; open(false);
    }
    var suggest = debounce(function () {
      var q = loc.value.trim();
      if (q.length < 2 || document.activeElement !== loc) { open(false); return; }
      fetch(loc.getAttribute("data-location-suggest") + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          if (document.activeElement !== loc || loc.value.trim() !== q) return;
          list.innerHTML = "";
          (d.places || []).forEach(function (p, j) {
            var li = document.createElement("li");
            li.id = list.id + "-" + j;
            li.setAttribute("role", "option");
            var b = document.createElement("button");
            b.type = "button";
            b.tabIndex = -1;
            b.textContent = p.label;
            b.addEventListener("click", function () { pick(p); });
            li.appendChild(b);
            li.place = p;
            list.appendChild(li);
          });
          open(list.children.length > 0);
        })
        .catch(function () { open(false); });
    }, 250);
    loc.addEventListener("input", function () { lat.value = ""; lon.value = ""; suggest(); });
    // Back in the field with a city not yet picked: the list comes back.
    loc.addEventListener("focus", function () { if (!lat.value) suggest(); });
    loc.addEventListener("keydown", function (e) {
      var n = list.hidden ? 0 : list.children.length;
      if (e.key === "Escape") {
        open(false);
      } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && n) {
        e.preventDefault();
        mark(e.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n);
      } else if (e.key === "Enter" && n && active >= 0) {
        // Taken here, so the stepper's Enter does not also move on.
        e.preventDefault();
        e.stopPropagation();
        pick(list.children[active].place);
      }
    });
    // Pressing a suggestion keeps the focus in the field (so the click
    // lands in every browser); leaving the field closes the list.
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    loc.addEventListener("focusout", function () { open(false); });
    // Corrections offered after a refused city: one click takes it (the
    // device position, if it disagreed, is then not used).
    document.querySelectorAll("[data-pick-location]").forEach(function (b) {
      b.addEventListener("click", function () {
        loc.value = b.getAttribute("data-pick-location"); lat.value = ""; lon.value = "";
        var fixes = b.closest("[data-location-fixes]");
        if (fixes) fixes.hidden = true;
        loc.focus();
      });
    });
    document.addEventListener("click", function (e) { if (e.target !== loc) open(false); });
  }
})();

// Buttons of forms marked js-debounce submit once (e.g. opening a chat).
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (!f.classList || !f.classList.contains("js-debounce")) return;
  if (f.dataset.submitted) { e.preventDefault(); return; }
  f.dataset.submitted = "1";
  f.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
});
