// The live feed: server-sent events from /api/v1/stream. New 红 / 橙 alerts flash the title and
// play a short beep made with WebAudio (no sound file to fetch, nothing the CSP must allow).

let audio = null;

/** Browsers allow sound only after the officer touched the page once; this unlocks it. */
export function unlockSound() {
  const unlock = () => {
    try {
      audio = audio || new AudioContext();
      if (audio.state === 'suspended') void audio.resume();
    } catch {
      audio = null;
    }
  };
  window.addEventListener('pointerdown', unlock, { once: true });
  window.addEventListener('keydown', unlock, { once: true });
}

export function beep(level) {
  if (!audio || audio.state !== 'running') return false;
  const t = audio.currentTime;
  // 红: three high tones, 橙: two lower ones
  const tones = level === '红' ? [880, 880, 880] : [660, 660];
  tones.forEach((hz, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = hz;
    osc.type = 'square';
    gain.gain.setValueAtTime(0.0001, t + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.2, t + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + i * 0.25);
    osc.stop(t + i * 0.25 + 0.2);
  });
  return true;
}

let flashTimer = 0;
let baseTitle = '';
/** Alternates the tab title until the officer looks at the page again. */
export function flashTitle(text) {
  baseTitle = baseTitle || document.title;
  clearInterval(flashTimer);
  let on = false;
  let n = 0;
  flashTimer = setInterval(() => {
    on = !on;
    document.title = on ? text : baseTitle;
    if (++n > 40 || (!document.hidden && n > 6)) {
      clearInterval(flashTimer);
      document.title = baseTitle;
    }
  }, 800);
  document.documentElement.classList.add('flash');
  setTimeout(() => document.documentElement.classList.remove('flash'), 3000);
}

/**
 * Connects and reconnects (EventSource retries by itself). `onAlert({type, alert})` for every
 * pushed alert; `onState('live' | 'connecting' | 'offline')` for the indicator.
 */
export function connectLive({ onAlert, onState }) {
  const es = new EventSource('/api/v1/stream');
  onState('connecting');
  es.addEventListener('ready', () => onState('live'));
  es.addEventListener('alert', (ev) => {
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    onAlert(data);
  });
  es.addEventListener('logout', () => {
    es.close();
    location.assign('/login');
  });
  es.onerror = () => onState(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  return es;
}
