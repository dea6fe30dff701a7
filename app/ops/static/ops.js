// Progressive enhancement only: every page works without it.
// Ask before an action button fires, and refresh the dashboard every minute while nobody is typing.
document.addEventListener("submit", (e) => {
  const text = e.target.dataset && e.target.dataset.confirm;
  if (text && !window.confirm(text)) e.preventDefault();
});
if (location.pathname === "/ops") {
  setInterval(() => { if (!document.querySelector("input:focus")) location.reload(); }, 60000);
}
