// GigStream's small page script: confirmation before destructive actions,
// search autocomplete, and infinite scroll on search results.
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Autocomplete: terms complete the query, gig titles link to the gig.
  document.querySelectorAll("[data-autocomplete]").forEach(function (input) {
    var list = input.parentNode.querySelector(".completions");
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { list.hidden = true; return; }
      timer = setTimeout(function () {
        fetch("/api/v1/autocomplete?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (data) {
          var items = (data.completions || []).map(function (c) {
            var href = c.slug ? "/gigs/" + encodeURIComponent(c.slug) : "/search?q=" + encodeURIComponent(c.text);
            return '<li><a href="' + href + '">' + esc(c.text) + "</a></li>";
          });
          list.innerHTML = items.join("");
          list.hidden = items.length === 0;
        }).catch(function () { list.hidden = true; });
      }, 150);
    });
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 200); });
  });

  // Infinite scroll: fetch the next page from the API and append cards.
  var more = document.querySelector("[data-next]");
  var cards = document.querySelector(".results [data-cards]");
  if (!more || !cards) return;
  var loading = false;
  function money(minor, currency) {
    var sym = { USD: "$", EUR: "€", GBP: "£", KES: "KSh ", JPY: "¥" }[currency] || "";
    return currency === "JPY" ? sym + minor : sym + (minor / 100).toFixed(2);
  }
  var levels = { "new": "New seller", level_one: "Level 1", level_two: "Level 2", top_rated: "Top rated" };
  function load() {
    var url = more.getAttribute("data-next");
    if (loading || !url) return;
    loading = true;
    fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }).then(function (data) {
      (data.hits || []).forEach(function (h) {
        var li = document.createElement("li");
        li.className = "card";
        var img = h.cover ? '<img src="/media/' + esc(h.cover) + '" alt="" loading="lazy">' : '<div class="card-ph" aria-hidden="true"></div>';
        li.innerHTML = '<a href="/gigs/' + esc(h.slug) + '" class="card-link">' + img + '<span class="card-title">' + esc(h.title) + "</span></a>" +
          '<span class="card-seller"><a href="/u/' + esc(h.seller_username) + '">' + esc(h.seller_name) + "</a> · " + esc(levels[h.seller_level] || "") + "</span>" +
          '<span class="card-price">From <strong>' + esc(money(h.min_price_minor, h.currency)) + "</strong> · " + h.min_delivery_days + " day" + (h.min_delivery_days === 1 ? "" : "s") + "</span>";
        cards.appendChild(li);
      });
      if (data.next_cursor) {
        more.setAttribute("data-next", url.replace(/([?&])cursor=[^&]*/, "$1cursor=" + encodeURIComponent(data.next_cursor)));
      } else {
        more.parentNode.removeChild(more);
      }
      loading = false;
    }).catch(function () { loading = false; });
  }
  more.addEventListener("click", function (e) { e.preventDefault(); load(); });
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      if (entries.some(function (en) { return en.isIntersecting; })) load();
    }, { rootMargin: "400px" }).observe(more);
  }
})();
