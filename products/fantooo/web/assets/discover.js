// Discover, favourites and profile pages. Each works without this script:
// hearts are forms, "More profiles" is a link, photos scroll natively. The
// script adds hearts that toggle in place, infinite scroll and photo buttons.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  function toast(message, kind) {
    if (window.fantoooToast) window.fantoooToast(message, kind);
  }

  // Hearts: PUT or DELETE the favourite, then flip the form to the opposite action.
  function setHeart(form, on) {
    var id = form.getAttribute("data-fav");
    var btn = form.querySelector("button");
    form.action = "/favorites/" + id + (on ? "/delete" : "");
    btn.setAttribute("aria-pressed", on ? "true" : "false");
    btn.textContent = on ? "♥" : "♡";
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-fav")) return;
    e.preventDefault();
    var btn = form.querySelector("button");
    if (btn.disabled) return;
    var on = btn.getAttribute("aria-pressed") === "true";
    btn.disabled = true;
    fetch("/api/favorites/" + encodeURIComponent(form.getAttribute("data-fav")), {
      method: on ? "DELETE" : "PUT",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf }
    })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (d) {
        setHeart(form, d.is_favorite);
        var list = form.closest("[data-favorites]");
        if (list && !d.is_favorite) {
          var card = form.closest(".profile-card");
          if (card) card.remove();
          if (!list.querySelector(".profile-card")) window.location.reload();
        }
      })
      .catch(function () { toast("Couldn't update your favourites. Please try again.", "error"); })
      .then(function () { btn.disabled = false; });
  });

  // Cards for further pages, built like templates/profile_card.html.
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text != null) n.textContent = text;
    return n;
  }
  function card(p, back) {
    var article = el("article", { "class": "profile-card card", "data-profile": p.id });
    var link = el("a", { "class": "profile-link", href: "/profile/" + p.id });
    if (p.profile_pictures && p.profile_pictures.length) {
      link.appendChild(el("img", { src: p.profile_pictures[0], alt: p.name, loading: "lazy", width: "320", height: "400" }));
    }
    var metaBox = el("div", { "class": "meta" });
    metaBox.appendChild(el("strong", {}, p.name + ", " + p.age));
    if (p.is_featured) {
      metaBox.appendChild(document.createTextNode(" "));
      metaBox.appendChild(el("span", { "class": "badge badge-featured" }, "Featured"));
    }
    metaBox.appendChild(el("br"));
    metaBox.appendChild(el("span", { "class": "muted" }, p.location));
    link.appendChild(metaBox);
    article.appendChild(link);
    var form = el("form", { method: "post", "class": "fav-form", "data-fav": p.id });
    form.appendChild(el("input", { type: "hidden", name: "csrf_token", value: csrf }));
    form.appendChild(el("input", { type: "hidden", name: "next", value: back }));
    form.appendChild(el("button", { type: "submit", "class": "fav-btn", "aria-label": "Favourite " + p.name, title: "Favourite" }));
    setHeart(form, p.is_favorite);
    article.appendChild(form);
    return article;
  }

  // Infinite scroll: when "More profiles" comes into view, fetch the next
  // page from the API with the same filters and append it.
  var grid = document.querySelector("[data-infinite]");
  var more = document.querySelector("[data-more]");
  if (grid && more && "IntersectionObserver" in window) {
    var loading = false;
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (en) { return en.isIntersecting; })) loadMore();
    }, { rootMargin: "600px 0px" });
    function loadMore() {
      var cursor = grid.getAttribute("data-cursor");
      if (loading || !cursor) return;
      loading = true;
      more.setAttribute("aria-busy", "true");
      var url = grid.getAttribute("data-api") + "&cursor=" + encodeURIComponent(cursor);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (d) {
          var back = grid.getAttribute("data-back") || "/discover";
          d.profiles.forEach(function (p) { grid.appendChild(card(p, back)); });
          grid.setAttribute("data-cursor", d.next_cursor || "");
          if (d.next_cursor) {
            more.href = more.href.replace(/cursor=[^&]*/, "cursor=" + encodeURIComponent(d.next_cursor));
          } else {
            observer.disconnect();
            more.parentNode.remove();
          }
        })
        // The link still works on its own; stop scrolling in and let it be clicked.
        .catch(function () { observer.disconnect(); })
        .then(function () { loading = false; more.removeAttribute("aria-busy"); });
    }
    observer.observe(more);
  }

  // Photo carousel: the track scroll-snaps by itself; buttons step one photo.
  document.querySelectorAll("[data-carousel]").forEach(function (box) {
    var track = box.querySelector(".carousel-track");
    var prev = box.querySelector("[data-carousel-prev]");
    var next = box.querySelector("[data-carousel-next]");
    if (!track || !prev || !next || track.children.length < 2) return;
    prev.hidden = false;
    next.hidden = false;
    // The dot of the photo in view is marked, with "n of N" for readers.
    var dots = Array.prototype.slice.call(box.querySelectorAll(".carousel-dots a"));
    var counter = box.querySelector("[data-carousel-counter]");
    function mark() {
      var i = Math.round(track.scrollLeft / Math.max(1, track.clientWidth));
      i = Math.max(0, Math.min(dots.length - 1, i));
      dots.forEach(function (d, j) { if (j === i) d.setAttribute("aria-current", "true"); else d.removeAttribute("aria-current"); });
      if (counter) counter.textContent = (i + 1) + " / " + dots.length;
      prev.disabled = i === 0;
      next.disabled = i === dots.length - 1;
    }
    var marking = null;
    track.addEventListener("scroll", function () { clearTimeout(marking); marking = setTimeout(mark, 60); }, { passive: true });
    dots.forEach(function (d, j) {
      d.addEventListener("click", function (e) { e.preventDefault(); track.scrollTo({ left: j * track.clientWidth, behavior: "smooth" }); });
    });
    mark();
    function step(dir) { track.scrollBy({ left: dir * track.clientWidth, behavior: "smooth" }); }
    prev.addEventListener("click", function () { step(-1); });
    next.addEventListener("click", function () { step(1); });
    track.addEventListener("keydown", function (e) {
      if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
      if (e.key === "ArrowRight") { e.preventDefault(); step(1); }
    });
  });
})();
