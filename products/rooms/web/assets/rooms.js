// Confirmation before destructive room actions (kick, block, close): forms
// carry data-confirm with the question. No inline handlers (CSP).
document.addEventListener('submit', (e) => {
  const q = e.target.getAttribute && e.target.getAttribute('data-confirm');
  if (q && !window.confirm(q)) e.preventDefault();
});
document.addEventListener('click', (e) => {
  if (e.target.matches && e.target.matches('a[data-back]')) { e.preventDefault(); history.back(); }
});
