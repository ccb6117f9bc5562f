// Credits pages: keep every [data-credits] balance live. The server pushes
// `balance` over the page's WebSocket whenever a purchase, refund or reward
// lands, including ones completed in another tab or by the payment
// provider's webhook. Without this script the pages still work; the
// balance is then as of page load.
(function () {
  "use strict";
  var root = document.getElementById("credits");
  if (!root || !window.WebSocket) return;
  var backoff = 1000;

  function setBalance(credits) {
    document.querySelectorAll("[data-credits]").forEach(function (el) { el.textContent = credits; });
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws");
    var ping;
    ws.onopen = function () {
      backoff = 1000;
      root.dataset.live = "1";
      ping = setInterval(function () { if (ws.readyState === 1) ws.send(JSON.stringify({ t: "ping" })); }, 15000);
    };
    ws.onmessage = function (e) {
      var ev;
      try { ev = JSON.parse(e.data); } catch (_) { return; }
      if (ev.t === "balance") setBalance(ev.credits);
    };
    ws.onclose = function () {
      root.dataset.live = "";
      clearInterval(ping);
      var wait = Math.min(backoff, 30000) * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(connect, wait);
    };
  }
  connect();
})();
