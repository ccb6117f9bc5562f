// The bell: its unread count on load, then live over the realtime socket
// ({"t":"notification"} on one's own channel). The socket pings every
// 25 s (it also keeps one's online status); leaving the page closes it at
// once (pagehide), and coming back from the back/forward cache reopens it. On the settings page, the
// browser push switch (service worker /sw.js, the site's VAPID key).
(function () {
  "use strict";
  var bell = document.querySelector("[data-bell]");
  if (!bell) return;
  var count = bell.querySelector("[data-bell-count]");
  function show(n) {
    count.textContent = n > 99 ? "99+" : String(n);
    count.hidden = n <= 0;
    bell.setAttribute("aria-label", n > 0 ? "Notifications, " + n + " unread" : "Notifications");
  }
  var unread = 0;
  fetch("/api/v1/notifications/unread", { headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { unread: 0 }; })
    .then(function (d) { unread = d.unread || 0; show(unread); })
    .catch(function () {});
  var delay = 1000, ws = null, hidden = false;
  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + location.host + "/api/v1/ws");
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (e) {
      var f;
      try { f = JSON.parse(e.data); } catch (x) { return; }
      if (f.t === "notification") {
        unread += 1;
        show(unread);
        bell.classList.add("ring");
        setTimeout(function () { bell.classList.remove("ring"); }, 1200);
      }
    };
    ws.onclose = function () {
      if (hidden) return;
      setTimeout(function () { if (!hidden && ws.readyState > 1) connect(); }, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
  setInterval(function () { if (ws && ws.readyState === 1) ws.send('{"t":"ping"}'); }, 25000);
  window.addEventListener("pagehide", function () { hidden = true; ws.close(); });
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    hidden = false;
    delay = 1000;
    connect();
  });

  var box = document.querySelector("[data-push]");
  if (!box) return;
  var state = box.querySelector("[data-push-state]");
  var on = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return;
  function key(b64) {
    var s = (b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  function send(method, body) {
    return fetch("/api/v1/push/subscriptions", {
      method: method, headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body)
    });
  }
  function refresh(reg) {
    return reg.pushManager.getSubscription().then(function (sub) {
      state.textContent = sub ? "On in this browser." : "Off in this browser.";
      on.hidden = !!sub;
      off.hidden = !sub;
      return sub;
    });
  }
  navigator.serviceWorker.register("/sw.js").then(function (reg) {
    refresh(reg);
    on.addEventListener("click", function () {
      reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(box.dataset.key) })
        .then(function (sub) { return send("POST", sub.toJSON()); })
        .then(function () { return refresh(reg); })
        .catch(function (e) { state.textContent = "Could not turn on: " + e.message; });
    });
    off.addEventListener("click", function () {
      reg.pushManager.getSubscription().then(function (sub) {
        if (!sub) return refresh(reg);
        return send("DELETE", { endpoint: sub.endpoint }).then(function () { return sub.unsubscribe(); }).then(function () { return refresh(reg); });
      });
    });
  });
})();
