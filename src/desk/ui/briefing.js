// The briefing page's one script: the print button (no inline handlers under the CSP).
const button = document.getElementById('print');
if (button) button.addEventListener('click', () => window.print());
