// The header shared by every desk page: who is logged in, the page links, logout.
import { el, $ } from './dom.js';
import { getJson, postJson } from './api.js';

const ROLE_LABELS = { officer: '省级值班员', county: '县区用户', admin: '管理员' };

const LINKS = [
  ['/', '值班台'],
  ['/trends', '趋势研判'],
  ['/ledger', '工作台账'],
  ['/handover', '交接班'],
  ['/api/v1/briefing', '舆情日报'],
];

/** Pages only some roles may open (the server refuses the others anyway). */
const ROLE_LINKS = [['/rules', '研判规则', ['officer', 'admin']]];
ROLE_LINKS.push(['/channels', '推送通道与静默', ['officer', 'county', 'admin']]);
ROLE_LINKS.push(['/sources', '信息源状态', ['officer', 'admin']]);
const linksFor = (me) => [...LINKS, ...ROLE_LINKS.filter(([, , roles]) => roles.includes(me.role))];

/** Fills <nav id="nav"> and resolves with the user (or null after redirecting to login). */
export async function initNav() {
  const r = await getJson('/api/v1/me');
  if (!r.ok) return null;
  const me = r.body;
  const nav = $('#nav');
  if (nav) {
    const links = el(
      'ul',
      { class: 'nav-links' },
      linksFor(me).map(([href, text]) => el('li', null, el('a', { href, 'aria-current': location.pathname === href ? 'page' : null }, text))),
    );
    const logout = el('button', { type: 'button', class: 'logout', id: 'logout' }, '退出');
    logout.addEventListener('click', async () => {
      await postJson('/api/v1/logout', {});
      location.assign('/login');
    });
    const who = el(
      'span',
      { class: 'who', id: 'who' },
      el('strong', null, me.name),
      ` · ${ROLE_LABELS[me.role] || me.role}`,
      me.regionName || me.region ? ` · ${me.regionName || me.region}` : '',
    );
    nav.replaceChildren(links, el('span', { class: 'user' }, who, logout));
  }
  return me;
}
