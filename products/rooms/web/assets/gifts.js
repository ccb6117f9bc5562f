// Gifts on the room page, live balances, and live leaderboards. No
// inline code: this file is served from /assets/gifts.js.
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; };
  const key = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  // Live balances on any page that shows them (the user's own channel).
  const showBalance = (d) => {
    for (const [id, v] of [['coin-balance', d.coins], ['diamond-balance', d.diamonds], ['gift-coins', d.coins], ['gift-diamonds', d.diamonds]]) {
      const n = document.getElementById(id);
      if (n && v != null) n.textContent = String(v);
    }
  };

  // The animation every present person sees.
  const play = (d) => {
    const fx = el('div', null, 'gift-fx');
    const burst = el('div', null, `burst ${d.rarity || ''}`);
    const img = el('img'); img.src = `/assets/gifts/${d.animation}.svg`; img.alt = d.gift_name || 'gift';
    const names = (d.to || []).map((t) => t.name).join(', ');
    const line = el('p', `${d.sender_name} sent ${d.gift_name}${d.quantity > 1 ? ` ×${d.quantity}` : ''} to ${names}`);
    line.dataset.gift = d.gift;
    burst.append(img, line);
    if (d.combo > 1) burst.append(el('p', `combo ×${d.combo}`));
    fx.append(burst);
    fx.id = 'gift-fx';
    // A busy room sends many gifts at once: the newest three play.
    document.querySelectorAll('.gift-fx').forEach((x, i, all) => { x.removeAttribute('id'); if (i < all.length - 2) x.remove(); });
    document.body.append(fx);
    setTimeout(() => fx.remove(), 2800);
    const log = $('#gift-log');
    if (log) { const li = el('li', line.textContent); log.prepend(li); while (log.children.length > 5) log.lastChild.remove(); }
  };

  document.addEventListener('rooms:live', (ev) => {
    const v = ev.detail || {};
    if (v.t === 'user_event' && v.kind === 'balance') showBalance(v.data || {});
    // One frame per committed batch lists its gifts in order (`gifts`);
    // a `gift` frame is one gift (events written before the list frames).
    if (v.t === 'event' && v.kind === 'gifts') for (const d of (v.data || {}).gifts || []) play(d);
    if (v.t === 'event' && v.kind === 'gift') play(v.data || {});
  });

  // The gift panel.
  const panel = $('#gifts');
  const room = $('.room-head[data-room]');
  if (panel && room) {
    const id = room.dataset.room;
    const csrf = room.dataset.csrf;
    const me = room.dataset.me;
    const head = el('h2', 'Send a gift');
    const bal = el('span', null, 'muted');
    const coins = el('b', '…'); coins.id = 'gift-coins';
    const dia = el('b', '…'); dia.id = 'gift-diamonds';
    bal.append(coins, ' coins · ', dia, ' diamonds · ');
    const topup = el('a', 'Top up'); topup.href = '/coins';
    bal.append(topup);
    head.append(bal);
    const list = el('ul', null, 'gift-list');
    const form = el('form', null, 'gift-send');
    const to = el('select'); to.name = 'to'; to.setAttribute('aria-label', 'Send to');
    const qty = el('input'); qty.type = 'number'; qty.min = '1'; qty.max = '9999'; qty.value = '1'; qty.name = 'quantity'; qty.setAttribute('aria-label', 'How many');
    const send = el('button', 'Send', 'btn'); send.type = 'submit';
    form.append(to, qty, send);
    const status = el('p', null, 'gift-status muted'); status.setAttribute('role', 'status');
    const log = el('ol', null, 'list'); log.id = 'gift-log';
    panel.append(head, list, form, status, log);
    let chosen = null;
    let combo = { gift: null, n: 0, at: 0 };

    const seated = () => [...document.querySelectorAll('.seats [data-seat]')]
      .map((s) => ({ name: ($('.who', s) || {}).textContent || '', account: s.dataset.account }))
      .filter((s) => s.account && s.account !== me);
    const fillTargets = () => {
      const keep = to.value;
      to.replaceChildren();
      const all = el('option', 'Everyone on a seat'); all.value = 'all'; to.append(all);
      for (const s of seated()) { const o = el('option', s.name.replace(' 🔇', '')); o.value = s.account; to.append(o); }
      if ([...to.options].some((o) => o.value === keep)) to.value = keep;
    };
    fillTargets();
    new MutationObserver(fillTargets).observe($('.seats'), { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-account'] });

    fetch('/api/v1/coins', { credentials: 'same-origin' }).then((r) => r.json()).then(showBalance).catch(() => {});
    fetch('/api/v1/gifts').then((r) => r.json()).then((v) => {
      for (const g of v.gifts || []) {
        const li = el('li');
        const b = el('button', null, g.rarity); b.type = 'button'; b.dataset.gift = g.id; b.setAttribute('aria-pressed', 'false');
        const img = el('img'); img.src = `/assets/gifts/${g.animation}.svg`; img.alt = '';
        b.append(img, el('span', g.name), el('small', `${g.price} coins`));
        b.addEventListener('click', () => {
          chosen = g;
          list.querySelectorAll('button').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
        });
        li.append(b); list.append(li);
      }
      const first = list.querySelector('button'); if (first) first.click();
    });

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!chosen) { status.textContent = 'Choose a gift.'; return; }
      const now = Date.now();
      combo = combo.gift === chosen.id && now - combo.at < 5000 ? { gift: chosen.id, n: combo.n + 1, at: now } : { gift: chosen.id, n: 1, at: now };
      const body = { gift_id: chosen.id, to: to.value, quantity: Number(qty.value || 1), combo: combo.n, idempotency_key: key() };
      send.disabled = true;
      status.textContent = 'Sending…';
      try {
        // Retries of one click carry the same key: it is charged once.
        let r;
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            r = await fetch(`/api/v1/rooms/${id}/gifts`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
            break;
          } catch (err) { if (attempt === 2) throw err; }
        }
        const v = await r.json();
        if (r.ok) { status.textContent = `Sent ${chosen.name}.`; showBalance({ coins: v.balance }); }
        else if (r.status === 402) status.textContent = `Not enough coins: this needs ${v.required}, you have ${v.available}.`;
        else status.textContent = v.message || 'That did not work.';
      } catch (err) {
        status.textContent = 'Network trouble; try again.';
      } finally { send.disabled = false; }
    });
  }

  // Leaderboards follow their board live over the public socket
  // (/api/v1/ws/boards): the server pushes the first page when it changed,
  // at most once a second; the viewer's own rank is read again then.
  const board = $('#board');
  if (board) {
    const render = (rows) => {
      board.replaceChildren(...rows.map((row) => {
        const li = el('li');
        li.append(el('span', String(row.rank), 'rank'), el('span', row.name || '—', 'name'), el('b', String(row.amount), 'amount'));
        return li;
      }));
      const empty = $('#board-empty'); if (empty) empty.hidden = rows.length > 0;
    };
    const refresh = async (withRows) => {
      try {
        const r = await fetch(`/api/v1/leaderboards/${board.dataset.board}?period=${board.dataset.period}`, { credentials: 'same-origin' });
        if (!r.ok) return;
        const v = await r.json();
        if (withRows) render(v.rows);
        const me = $('#board-me');
        if (me && v.me) me.textContent = `You are #${v.me.rank} with ${v.me.amount}.`;
      } catch (e) { /* the next push tries again */ }
    };
    const channel = { board: board.dataset.board, period: board.dataset.period };
    let delay = 1000;
    const open = () => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws/boards`);
      let ping;
      ws.onopen = () => {
        delay = 1000;
        ws.send(JSON.stringify({ t: 'subscribe', ...channel }));
        ping = setInterval(() => ws.send('{"t":"ping"}'), 20000);
      };
      ws.onmessage = (m) => {
        const v = JSON.parse(m.data);
        // Whatever changed while the page loaded or the socket was down.
        if (v.t === 'subscribed') refresh(true);
        if (v.t === 'leaderboard' && v.board === channel.board && v.period === channel.period) {
          render(v.rows);
          board.dataset.updated = String(Date.now());
          if (document.body.hasAttribute('data-live') && ['wealth', 'charm'].includes(channel.board)) refresh(false);
        }
      };
      ws.onclose = () => { clearInterval(ping); setTimeout(open, delay); delay = Math.min(delay * 2, 30000); };
    };
    open();
  }
})();
