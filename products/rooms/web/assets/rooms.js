// Confirmation before destructive room actions (kick, block, close): forms
// carry data-confirm with the question. No inline handlers (CSP).
document.addEventListener('submit', (e) => {
  const q = e.target.getAttribute && e.target.getAttribute('data-confirm');
  if (q && !window.confirm(q)) e.preventDefault();
});
document.addEventListener('click', (e) => {
  if (e.target.matches && e.target.matches('a[data-back]')) { e.preventDefault(); history.back(); }
});

// In a room: a heartbeat every 10 s keeps the place (and a seat within its
// 45 s hold); new room events reload the page until the live socket takes
// over. A 409 `not_in_room` means the sweep or a moderator took us out.
(() => {
  const room = document.querySelector('[data-room]');
  if (!room) return;
  const id = room.dataset.room;
  const headers = { 'X-CSRF-Token': room.dataset.csrf, 'Content-Type': 'application/json' };
  let seq = Number(room.dataset.seq || 0);
  const beat = () => fetch(`/api/v1/rooms/${id}/heartbeat`, { method: 'POST', headers, body: '{}' })
    .then((r) => { if (r.status === 409 || r.status === 401) location.reload(); })
    .catch(() => {});
  const poll = () => fetch(`/api/v1/rooms/${id}/events?after=${seq}`, { headers: { Accept: 'application/json' } })
    .then((r) => r.ok ? r.json() : null)
    .then((v) => {
      if (v && v.events && v.events.length) {
        seq = v.events[v.events.length - 1].seq;
        const typing = document.activeElement && document.activeElement.tagName === 'INPUT';
        if (!typing) location.reload();
      }
    })
    .catch(() => {});
  setInterval(beat, 10000);
  setInterval(poll, 3000);
})();
